import { parseInput } from '@sessionkit/core';
import type { Request, Response } from 'express';
import QRCode from 'qrcode';
import { z } from 'zod';

/** Core's transfer-code shape: `tc_`, the 22-character session id, a dot, the 43-character secret. */
const qrBody = z.object({ code: z.string().regex(/^tc_[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/) });

/**
 * `POST /api/transfer/qr {code}` → `image/svg+xml`: the QR image of this app's page with the code in the
 * fragment, which a browser never sends to the server, so the code stays out of access logs and Referer.
 * Drawn here by `qrcode`: no image service ever sees the code, and the page's CSP (`img-src 'self'`) holds.
 */
export async function transferQrHandler(req: Request, res: Response): Promise<void> {
  const { code } = parseInput(qrBody, req.body, 'QR request');
  const url = `${req.protocol}://${req.get('host') ?? 'localhost'}/#transfer=${code}`;
  const svg = await QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  res.setHeader('cache-control', 'no-store');
  res.type('image/svg+xml').send(svg);
}
