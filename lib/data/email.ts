// Raw RFC 822 messages to text with a maintained MIME parser (mailparser): subject and text body,
// quoted-printable and base64 decoded, attachments dropped, HTML-only bodies turned into text.
import { convert } from 'html-to-text';
import { simpleParser } from 'mailparser';

export interface ParsedEmail {
  subject: string;
  body: string;
}

export async function parseEmail(raw: Buffer | string): Promise<ParsedEmail> {
  const m = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true });
  let body = m.text ?? '';
  if (!body.trim() && typeof m.html === 'string') body = convert(m.html, { wordwrap: false, selectors: [{ selector: 'img', format: 'skip' }] });
  return { subject: m.subject ?? '', body };
}
