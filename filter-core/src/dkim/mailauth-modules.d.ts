// Types of the two mailauth (CommonJS, untyped) modules Vigil uses: dkim/mailauth.ts.
declare module 'mailauth/lib/dkim/verify.js' {
  const mod: { dkimVerify(input: Buffer, options: Record<string, unknown>): Promise<{ results: unknown[] }> }
  export default mod
}
declare module 'mailauth/lib/dkim/sign.js' {
  const mod: {
    dkimSign(
      input: Buffer,
      options: Record<string, unknown>,
    ): Promise<{ signatures: string; errors?: { err: Error }[] }>
  }
  export default mod
}
