/** SHA-256 of a buffered body, in the two spellings S3 wants (hex for SigV4, base64 for checksums). */
export interface Sha256 {
  readonly hex: string;
  readonly base64: string;
}

/** Hashes bytes with crypto.subtle (web-standard; every runtime has it). */
export async function sha256(bytes: Uint8Array): Promise<Sha256> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  let hex = '';
  let binary = '';
  for (const b of digest) {
    hex += b.toString(16).padStart(2, '0');
    binary += String.fromCharCode(b);
  }
  return { hex, base64: btoa(binary) };
}
