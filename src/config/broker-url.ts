/** What a broker URL must look like at all (the config schema's pattern for `broker.urls`). */
export const BROKER_URL_PATTERN = /^(mqtts?|wss?|tcp|ssl):\/\/\S+$/;

/**
 * What is wrong with a broker URL beyond its scheme, or `undefined`: no host, an empty port
 * (`mqtt://host:` would quietly mean 1883), a port outside 1–65535.
 */
export function brokerUrlProblem(url: string): string | undefined {
  const authority = /^[a-z]+:\/\/([^/?#]*)/i.exec(url)?.[1] ?? '';
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  if (hostPort.endsWith(':')) return 'the port is empty (leave out the colon for the default)';
  const port = /:(\d+)$/.exec(hostPort)?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535))
    return `port ${port} is not between 1 and 65535`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a URL';
  }
  return parsed.hostname === '' ? 'names no host' : undefined;
}
