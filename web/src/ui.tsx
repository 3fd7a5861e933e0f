import { useId, useState, type FormEvent, type InputHTMLAttributes, type ReactNode } from 'react'
import type { ApiError } from './api/client.ts'

/** Errors of a form: one per field (shown next to it) and one for the form as a whole. */
export interface FormErrors {
  fields: Record<string, string>
  form?: string
}
export const noErrors: FormErrors = { fields: {} }

/**
 * The API's error as form errors: validation details name their field (`path`); other codes go
 * to the field `fieldFor` names for them, else to the form.
 */
export function formErrors(error: ApiError, fieldFor: Record<string, string> = {}): FormErrors {
  if (error.code === 'validation_failed' && Array.isArray(error.details)) {
    const fields: Record<string, string> = {}
    for (const d of error.details as { path?: string; message?: string }[]) {
      if (d.path && !fields[d.path]) fields[d.path] = humanize(d.message ?? 'Invalid value')
    }
    if (Object.keys(fields).length) return { fields }
  }
  const field = fieldFor[error.code]
  return field ? { fields: { [field]: error.message } } : { fields: {}, form: error.message }
}
const humanize = (message: string) => message.charAt(0).toUpperCase() + message.slice(1)

export function Field({ label, name, error, hint, ...input }: InputHTMLAttributes<HTMLInputElement> & { label: string; name: string; error?: string; hint?: string }) {
  const id = useId()
  const errorId = `${id}-error`
  const hintId = `${id}-hint`
  const describedBy = [hint ? hintId : null, error ? errorId : null].filter(Boolean).join(' ') || undefined
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {hint && <p className="hint" id={hintId}>{hint}</p>}
      <input id={id} name={name} aria-invalid={error ? true : undefined} aria-describedby={describedBy} {...input} />
      {error && <p className="field-error" id={errorId} role="alert">{error}</p>}
    </div>
  )
}

export function FormError({ error }: { error?: string }) {
  return error ? <p className="form-error" role="alert">{error}</p> : null
}

export function Notice({ children }: { children: ReactNode }) {
  return <p className="notice" role="status">{children}</p>
}

/** A form that runs `submit` with its values, shows a busy button and keeps its errors. */
export function useForm(submit: (values: Record<string, string>) => Promise<FormErrors | void>) {
  const [errors, setErrors] = useState<FormErrors>(noErrors)
  const [busy, setBusy] = useState(false)
  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    const values = Object.fromEntries([...new FormData(event.currentTarget)].map(([k, v]) => [k, String(v)]))
    setBusy(true)
    try {
      setErrors((await submit(values)) ?? noErrors)
    } finally {
      setBusy(false)
    }
  }
  return { errors, setErrors, busy, onSubmit }
}

export function Submit({ busy, danger, children }: { busy: boolean; danger?: boolean; children: ReactNode }) {
  return (
    <button type="submit" className={danger ? 'danger' : undefined} disabled={busy} aria-busy={busy || undefined}>
      {children}
    </button>
  )
}
