/** The options of the network role: proxies. */
import { z } from 'zod';

/** A proxy: HTTP or HTTPS, optional basic auth; hosts in `no_proxy` are reached directly. */
export const proxyServerSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// proxy URL such as http://proxy.corp.example:3128' }).refine(
    (value) => new URL(value).username === '' && new URL(value).password === '',
    'must not hold credentials; use username and password (password from ${env:} or ${file:})',
  ),
  username: z.string().min(1).optional(),
  password: z.string().min(1).optional(),
  no_proxy: z.array(z.string().min(1)).optional(),
});
/** A source may override the collector's default proxy, or bypass it with `none`. */
export const proxySchema = z.union([z.literal('none'), proxyServerSchema], { error: 'must be none or { url, username, password, no_proxy }' });

export type ProxyServerConfig = z.output<typeof proxyServerSchema>;
