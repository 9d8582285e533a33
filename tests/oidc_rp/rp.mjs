// A relying party built on openid-client v6 (panva's OpenID-certified RP), driven step
// by step by tests/integration/test_openid_client.py against the served provider.
//
//   node rp.mjs start  STATE.json   reads {issuer, client_id, client_secret?, auth, redirect_uri,
//                                    scope, private_jwk?}; writes PKCE verifier, state, nonce;
//                                    prints {"authorization_url": ...}
//   node rp.mjs finish STATE.json CALLBACK_URL
//                                    exchanges the code (validating the ID token: signature from
//                                    the jwks_uri, iss, aud, exp, iat, nonce, at_hash), calls
//                                    userinfo (sub must match), refreshes, introspects, builds
//                                    the end-session URL; prints what it got as JSON
//
// Every check is openid-client's own: a defect makes it throw, and the test sees the exit
// status and the message.
import { readFileSync, writeFileSync } from "node:fs";
import * as client from "openid-client";

const [, , command, stateFile, callbackUrl] = process.argv;
const state = JSON.parse(readFileSync(stateFile, "utf8"));

async function clientAuth() {
  switch (state.auth) {
    case "client_secret_basic":
      return client.ClientSecretBasic(state.client_secret);
    case "client_secret_post":
      return client.ClientSecretPost(state.client_secret);
    case "private_key_jwt": {
      const key = await crypto.subtle.importKey(
        "jwk",
        state.private_jwk,
        { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
        false,
        ["sign"],
      );
      return client.PrivateKeyJwt({ key, kid: state.private_jwk.kid });
    }
    default:
      return client.None();
  }
}

async function configuration() {
  const insecure = state.issuer.startsWith("http://") ? { execute: [client.allowInsecureRequests] } : {};
  return client.discovery(new URL(state.issuer), state.client_id, undefined, await clientAuth(), insecure);
}

async function start() {
  const config = await configuration();
  state.code_verifier = client.randomPKCECodeVerifier();
  state.state = client.randomState();
  state.nonce = client.randomNonce();
  const parameters = {
    redirect_uri: state.redirect_uri,
    scope: state.scope,
    code_challenge: await client.calculatePKCECodeChallenge(state.code_verifier),
    code_challenge_method: "S256",
    state: state.state,
    nonce: state.nonce,
  };
  writeFileSync(stateFile, JSON.stringify(state));
  const metadata = config.serverMetadata();
  console.log(
    JSON.stringify({
      authorization_url: client.buildAuthorizationUrl(config, parameters).href,
      issuer: metadata.issuer,
      end_session_endpoint: metadata.end_session_endpoint,
    }),
  );
}

async function finish() {
  const config = await configuration();
  const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl), {
    pkceCodeVerifier: state.code_verifier,
    expectedState: state.state,
    expectedNonce: state.nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  // Introspection is for confidential clients (a public one is refused, as it should be).
  const introspected =
    state.auth === "none" ? null : await client.tokenIntrospection(config, tokens.access_token);
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  const afterRefresh = await client.fetchUserInfo(config, refreshed.access_token, claims.sub);
  const endSession = client.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token,
    post_logout_redirect_uri: state.post_logout_redirect_uri,
    state: "bye",
  });
  console.log(
    JSON.stringify({
      id_token_claims: claims,
      userinfo,
      introspection: introspected,
      refreshed: {
        rotated: refreshed.refresh_token !== tokens.refresh_token,
        scope: refreshed.scope,
        userinfo_sub: afterRefresh.sub,
      },
      first_refresh_token: tokens.refresh_token,
      access_token: refreshed.access_token,
      end_session_url: endSession.href,
    }),
  );
}

try {
  if (command === "start") await start();
  else if (command === "finish") await finish();
  else throw new Error(`unknown command ${command}`);
} catch (error) {
  console.error(`${error.name}: ${error.message}${error.code ? ` (${error.code})` : ""}`);
  if (error.cause) console.error(JSON.stringify(error.cause));
  process.exit(1);
}
