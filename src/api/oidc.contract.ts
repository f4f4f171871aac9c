import { z } from 'zod';

/** The HTTP contract for sign-in through the company's identity provider (OIDC). */

export const authMethodsSchema = z.object({
  password: z.boolean().describe('Whether e-mail and password sign-in (POST /api/v1/session) is on.'),
  oidc: z
    .object({
      name: z.string().describe('The identity provider, for the button: "Sign in with <name>".'),
      startUrl: z.string().describe('Where the browser goes to sign in (add ?returnTo=/path to come back there).'),
    })
    .nullable()
    .describe('Sign-in with the identity provider, when configured.'),
});

export const oidcStartQuerySchema = z.strictObject({
  returnTo: z
    .string()
    .max(2048)
    .optional()
    .describe('A path inside Lanes to open after sign-in; anything but a same-origin relative path becomes /.'),
});

/** What the identity provider sends back; providers add parameters of their own (session_state, …), so not strict. */
export const oidcCallbackQuerySchema = z.looseObject({
  code: z.string().max(4096).optional(),
  state: z.string().max(1024).optional(),
  iss: z.string().max(2048).optional(),
  error: z.string().max(256).optional(),
  error_description: z.string().max(2048).optional(),
});

export const redirectSchema = z.null().describe('A 302 redirect (Location header).');

export const logoutSchema = z.object({
  endSessionUrl: z
    .string()
    .describe("The identity provider's logout page: the browser goes there to end the provider's session too."),
});
