// The page the browser test serves: a web app that takes guest credentials from tegata the way
// apps take them from AWS, then makes one signed call with them. Bundled with esbuild.
// The imports of AWS's browser example: the Cognito provider package with its own client.
import { CognitoIdentityClient } from "@aws-sdk/client-cognito-identity";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { fromCognitoIdentityPool } from "@aws-sdk/credential-provider-cognito-identity";

const { url, identityPoolId } = window.TEGATA;

async function run() {
  const credentials = fromCognitoIdentityPool({
    client: new CognitoIdentityClient({ endpoint: url, region: "us-east-1" }),
    identityPoolId,
  });
  const sts = new STSClient({ endpoint: url, region: "us-east-1", credentials });
  const identity = await sts.send(new GetCallerIdentityCommand({}));
  return { arn: identity.Arn };
}

window.result = run().catch((error) => ({ error: `${error.name}: ${error.message}` }));
