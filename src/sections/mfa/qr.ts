import { encodeQR } from 'qr'

/**
 * The otpauth URI as an SVG QR code, made by `qr` (pure JS, no canvas or DOM: runs in Workers).
 * Error correction M, and the 4-module quiet zone ISO/IEC 18004 §5.3.8 asks for. The library
 * draws only the dark modules; a white background is added so the code scans on a dark page.
 */
export function qrSvg(text: string): string {
  const svg = encodeQR(text, 'svg', { ecc: 'medium', border: 4 })
  return svg.replace(/^<svg([^>]*)>/, '<svg$1 shape-rendering="crispEdges"><rect width="100%" height="100%" fill="#fff"/>')
}
