export { ConfigError, type GatewayConfig, loadConfig, parseConfig } from "./config.ts";
export { createGateway, type Gateway } from "./gateway.ts";
