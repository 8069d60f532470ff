import Bowser from 'bowser';

/** "Firefox 128 on Linux": what a person recognises their device by in "your devices". */
export function describeDevice(userAgent: string | undefined): string {
  if (!userAgent) return 'Unknown device';
  const parsed = Bowser.parse(userAgent);
  const browser = [parsed.browser.name, parsed.browser.version?.split('.')[0]].filter(Boolean).join(' ');
  const os = parsed.os.name ?? parsed.platform.type;
  if (!browser && !os) return 'Unknown device';
  return `${browser || 'Unknown browser'}${os ? ` on ${os}` : ''}`;
}
