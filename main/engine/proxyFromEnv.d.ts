// proxy-from-env 2 ships no type definitions; this is the one function Ferry uses (see its README).
declare module 'proxy-from-env' {
  /** The proxy URL for `url` from HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY (any case), or ''. */
  export function getProxyForUrl(url: string | URL): string;
}
