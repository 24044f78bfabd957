// Starts a real `tegata serve` on loopback, in a scratch data directory, for the JS tests.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import {
  CognitoIdentityClient,
  CreateIdentityPoolCommand,
  SetIdentityPoolRolesCommand,
} from "@aws-sdk/client-cognito-identity";
import { CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export async function startTegata(extraArgs = []) {
  const dataDir = mkdtempSync(path.join(tmpdir(), "tegata-js-"));
  const binary = process.env.TEGATA_BIN ?? path.join(ROOT, "target/debug/tegata");
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("TEGATA_")));
  const child = spawn(binary, ["serve", "--listen", "127.0.0.1:0", "--log", "info", "--data-dir", dataDir, ...extraArgs], {
    stdio: ["ignore", "ignore", "pipe"],
    env,
  });
  let log = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tegata did not start:\n${log}`)), 60_000);
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk) => {
      log += chunk;
      const match = /tegata listening on (http:\/\/\S+)/.exec(log);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on("exit", (code) => reject(new Error(`tegata exited with ${code}:\n${log}`)));
  });
  const text = readFileSync(path.join(dataDir, "credentials"), "utf8");
  const credentials = {
    accessKeyId: /aws_access_key_id = (\S+)/.exec(text)[1],
    secretAccessKey: /aws_secret_access_key = (\S+)/.exec(text)[1],
  };
  return {
    url,
    credentials,
    log: () => log,
    async stop() {
      const exited = new Promise((resolve) => child.on("exit", resolve));
      child.kill("SIGTERM");
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// A pool whose guest and authenticated roles trust it, made with the administrator's key.
export async function poolWithRoles(tegata) {
  const client = { endpoint: tegata.url, region: "us-east-1", credentials: tegata.credentials };
  const cognito = new CognitoIdentityClient(client);
  const iam = new IAMClient(client);
  const { IdentityPoolId } = await cognito.send(new CreateIdentityPoolCommand({
    IdentityPoolName: "js",
    AllowUnauthenticatedIdentities: true,
    DeveloperProviderName: "login.mycompany.myapp",
  }));
  const roles = {};
  for (const [kind, amr] of [["authenticated", "authenticated"], ["unauthenticated", "unauthenticated"]]) {
    const trust = {
      Version: "2012-10-17",
      Statement: [{
        Effect: "Allow",
        Principal: { Federated: "cognito-identity.amazonaws.com" },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: { "cognito-identity.amazonaws.com:aud": IdentityPoolId },
          "ForAnyValue:StringLike": { "cognito-identity.amazonaws.com:amr": amr },
        },
      }],
    };
    const created = await iam.send(new CreateRoleCommand({
      RoleName: `js-${kind}-${IdentityPoolId.slice(10, 18)}`,
      AssumeRolePolicyDocument: JSON.stringify(trust),
    }));
    roles[kind] = created.Role.Arn;
  }
  await cognito.send(new SetIdentityPoolRolesCommand({ IdentityPoolId, Roles: roles }));
  return { cognito, IdentityPoolId, roles };
}
