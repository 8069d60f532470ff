/**
 * What each sealed value is bound to (AES-GCM additional data): the row it belongs to, so a value copied
 * into another row of the same or another table fails authentication instead of being used there.
 */
export const sealedContext = {
  secret: (name: string) => `secret:${name}`,
  signingKey: (kid: string) => `signing-key:${kid}`,
  totp: (userId: string) => `totp:${userId}`,
  dataKey: (generation: number) => `data-key:${generation}`,
};
