// The official Dapr JS SDK's actor proxy calling a sample's actors through the dev sidecar.
//
//     node proxy_calls.mjs SIDECAR_PORT starwars|quickstart
//
// Prints one JSON line: each call's result, or {status, message} for a call the SDK threw on.
// tests/test_js_interop.py starts the sample under `dapr-actors run` and checks that line.
import { ActorId, ActorProxyBuilder, CommunicationProtocolEnum, DaprClient, LogLevel } from "@dapr/dapr";

const [port, sample] = process.argv.slice(2);

// The proxy sends the class's name as the actor type; a class expression under a computed key
// takes that key as its name, so "x-wing" needs no identifier.
const actorClass = (type) => ({ [type]: class {} })[type];

const client = new DaprClient({
  daprHost: "127.0.0.1",
  daprPort: port,
  communicationProtocol: CommunicationProtocolEnum.HTTP,
  logger: { level: LogLevel.Error },
});
const proxy = (type, id) => new ActorProxyBuilder(actorClass(type), client).build(new ActorId(id));

// The SDK throws Error(JSON.stringify({error, error_msg, status})) for a non-2xx answer.
async function outcome(call) {
  try {
    return await call();
  } catch (error) {
    const { status, error_msg: message } = JSON.parse(error.message);
    return { status, message };
  }
}

const results = {};
if (sample === "starwars") {
  const xwing = proxy("x-wing", "js-33");
  const trooper = proxy("stormtrooper", "js-1");
  results.whereFirst = await outcome(() => xwing.where());
  results.fly = await outcome(() => xwing.fly("Hoth"));
  results.whereAfter = await outcome(() => xwing.where());
  results.shoot = await outcome(() => trooper.shoot("js-33"));
  results.shootDefault = await outcome(() => trooper.shoot());
  results.performAction = await outcome(() => trooper.performAction());
  results.flyTooMany = await outcome(() => xwing.fly("Hoth", 1, 2));
  results.stateGet = await outcome(() => client.state.get("statestore", "key"));
} else if (sample === "quickstart") {
  const xwing = proxy("x-wing", "js-33");
  results.fly = await outcome(() => xwing.fly({ destination: "Hoth" }));
  results.flyAgain = await outcome(() => xwing.fly({ destination: "Dagobah" }));
  results.flyWithoutDestination = await outcome(() => xwing.fly({}));
} else {
  console.error(`unknown sample ${sample}: expected starwars or quickstart`);
  process.exit(2);
}
console.log(JSON.stringify(results));
// The SDK's keep-alive agents would hold the process open for their idle timeout.
process.exit(0);
