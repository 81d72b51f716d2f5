/** The test OpenID Provider's port: the e2e server is configured with it, e2e/sso.spec.ts starts it. */
export const oidcPort = Number(process.env.E2E_OIDC_PORT ?? 4180);
