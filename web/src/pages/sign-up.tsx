import { api, apiError } from '../api/client.ts'
import { Link, navigate } from '../router.tsx'
import { useSession } from '../session.tsx'
import { Field, FormError, formErrors, Submit, useForm } from '../ui.tsx'

/** Sign-up on a tenant host: the tenant's sign-up policy decides (the API answers signup_closed otherwise). */
export function SignUpPage() {
  const { tenant, signedIn } = useSession()
  const form = useForm(async ({ name, email, password }) => {
    const { data, error } = await api.POST('/v1/auth/register', { body: { email: email!, password: password!, ...(name ? { name } : {}) } })
    if (error) return formErrors(apiError(error), { weak_password: 'password', email_taken: 'email', signup_domain_refused: 'email' })
    await signedIn(data.access_token, data.expires_in)
    navigate('/account')
  })
  return (
    <section aria-labelledby="sign-up-title">
      <h1 id="sign-up-title">Create your {tenant?.name} account</h1>
      <form onSubmit={form.onSubmit} noValidate>
        <Field label="Name" name="name" autoComplete="name" error={form.errors.fields.name} />
        <Field label="Email" name="email" type="email" autoComplete="email" required error={form.errors.fields.email} />
        <Field label="Password" name="password" type="password" autoComplete="new-password" required hint="At least 10 characters." error={form.errors.fields.password} />
        <FormError error={form.errors.form} />
        <Submit busy={form.busy}>Create account</Submit>
      </form>
      <p>Already have an account? <Link href="/sign-in">Sign in</Link></p>
    </section>
  )
}
