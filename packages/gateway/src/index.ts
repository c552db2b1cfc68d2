export { ConfigError, type GatewayConfig, loadConfig, parseConfig } from "./config.ts";
export { createGateway, type Gateway, type GatewayOptions } from "./gateway.ts";
