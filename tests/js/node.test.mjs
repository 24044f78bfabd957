// aws-sdk-js v3 in Node: the SDK's own Cognito credential providers against tegata.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { GetOpenIdTokenForDeveloperIdentityCommand } from "@aws-sdk/client-cognito-identity";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { fromCognitoIdentity, fromCognitoIdentityPool } from "@aws-sdk/credential-providers";

import { poolWithRoles, startTegata } from "./tegata.mjs";

let tegata;
before(async () => {
  tegata = await startTegata();
});
after(async () => {
  await tegata?.stop();
});

function callerWith(credentials) {
  const sts = new STSClient({ endpoint: tegata.url, region: "us-east-1", credentials });
  return sts.send(new GetCallerIdentityCommand({}));
}

test("fromCognitoIdentityPool gives a guest the unauthenticated role", async () => {
  const { IdentityPoolId, roles } = await poolWithRoles(tegata);
  const credentials = fromCognitoIdentityPool({
    identityPoolId: IdentityPoolId,
    clientConfig: { endpoint: tegata.url, region: "us-east-1" },
  });
  const resolved = await credentials();
  assert.match(resolved.accessKeyId, /^ASIA/);
  assert.ok(resolved.expiration > new Date(Date.now() + 55 * 60_000));
  const identity = await callerWith(credentials);
  const roleName = roles.unauthenticated.split("/").pop();
  assert.match(identity.Arn, new RegExp(`:assumed-role/${roleName}/CognitoIdentityCredentials$`));
});

test("fromCognitoIdentity with a developer token gives the authenticated role", async () => {
  const { cognito, IdentityPoolId, roles } = await poolWithRoles(tegata);
  const issued = await cognito.send(new GetOpenIdTokenForDeveloperIdentityCommand({
    IdentityPoolId,
    Logins: { "login.mycompany.myapp": "js-user" },
  }));
  const credentials = fromCognitoIdentity({
    identityId: issued.IdentityId,
    logins: { "cognito-identity.amazonaws.com": issued.Token },
    clientConfig: { endpoint: tegata.url, region: "us-east-1" },
  });
  const identity = await callerWith(credentials);
  const roleName = roles.authenticated.split("/").pop();
  assert.match(identity.Arn, new RegExp(`:assumed-role/${roleName}/CognitoIdentityCredentials$`));
  assert.ok(!tegata.log().includes(issued.Token), "the token never reaches the log");
});
