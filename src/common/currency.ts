/** ISO 4217 codes this runtime knows, with their minor-unit exponent (EUR 2, JPY 0, BHD 3). */
const KNOWN = new Set(Intl.supportedValuesOf('currency'));

export function isKnownCurrency(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && KNOWN.has(code);
}

export function currencyExponent(code: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions().maximumFractionDigits ?? 2;
}
