import { hashPassword, hashPasswordScrypt } from '../src/identity/passwords.ts'

/**
 * The bench's hashing Worker (run under workerd directly): `GET /?alg=…` computes one password hash
 * and answers with its length, so the CPU of N requests, minus N requests of `alg=none`, is the CPU
 * of N hashes in workerd. `argon2id` is Atrium's production hash; `scrypt` the format used before it;
 * `scrypt-better-auth` better-auth's default parameters (N=16384, r=16, p=1) on the same runtime.
 */
export default {
  async fetch(request: Request): Promise<Response> {
    const alg = new URL(request.url).searchParams.get('alg')
    const password = 'correct horse battery staple'
    let hash = ''
    if (alg === 'argon2id') hash = await hashPassword(password, 'production')
    else if (alg === 'scrypt') hash = await hashPasswordScrypt(password, 14, 8, 5)
    else if (alg === 'scrypt-better-auth') hash = await hashPasswordScrypt(password, 14, 16, 1)
    else if (alg !== 'none') return new Response('unknown alg', { status: 400 })
    return Response.json({ length: hash.length })
  },
}
