import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import { HOST } from "./ports.ts";

export interface BrokerPlan {
  id: number;
  port: number;
  controllerPort: number;
  dir: string;
  /** The SASL_SSL listener's port (--sasl-ssl). */
  saslPort?: number;
  /** The OIDC listener's port (--sasl-ssl). */
  oidcPort?: number;
}

/**
 * A SASL_SSL listener beside PLAINTEXT, for testing Wharf's Kafka security: PLAIN, SCRAM-SHA-256 and
 * SCRAM-SHA-512 for one user and password, and OAUTHBEARER with unsecured (unsigned) tokens that
 * must carry OAUTHBEARER_SCOPE.
 */
export interface SaslSslPlan {
  /** PEM file with the broker's key and certificate. */
  keystore: string;
  /** PEM file with the CA that signed it. */
  truststore: string;
  username: string;
  password: string;
  oidc: OidcPlan;
}

/**
 * A second SASL_SSL listener, named OIDC, whose only mechanism is OAUTHBEARER with signed tokens:
 * Kafka checks their RS256 signature against a JWKS file, and their audience and issuer. The stack
 * plays no identity provider; whoever holds the private key (a test's token endpoint) issues tokens.
 */
export interface OidcPlan {
  /** The JWKS (public key only) the brokers read. */
  jwksFile: string;
  /** PEM (PKCS#8) RSA private key that signs tokens the brokers accept. */
  privateKeyFile: string;
  kid: string;
  audience: string;
  issuer: string;
}

export interface ClusterPlan {
  brokers: BrokerPlan[];
  authorizer: boolean;
  saslSsl?: SaslSslPlan | null;
}

/** The mechanism the stack's JSON info names; its user and password work with PLAIN and SCRAM-SHA-256 too. */
export const SCRAM_MECHANISM = "SCRAM-SHA-512";
const SCRAM_MECHANISMS = ["SCRAM-SHA-256", SCRAM_MECHANISM] as const;
/** Every mechanism the SASL_SSL listener accepts. */
export const SASL_MECHANISMS = ["PLAIN", ...SCRAM_MECHANISMS, "OAUTHBEARER"] as const;
/**
 * The scope every OAUTHBEARER token must hold on the SASL_SSL listener. Without a required scope the
 * unsecured validator accepts any well-formed token, and a test could not show a refusal.
 */
export const OAUTHBEARER_SCOPE = "kafka";

/** A Kafka Uuid as its tools print it: 16 random bytes, base64url without padding. */
export function randomKafkaUuid(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    // Kafka rejects ids that start with "-" (they read as a command-line flag).
    if (!id.startsWith("-")) return id;
  }
}

/** The `--initial-controllers` value: every node votes, each with its metadata directory's id. */
export function initialControllers(cluster: ClusterPlan, directoryIds: string[]): string {
  return cluster.brokers.map((b, i) => `${b.id}@${HOST}:${b.controllerPort}:${directoryIds[i]}`).join(",");
}

/** Combined broker+controller settings, sized for a laptop rather than for durability or load. */
export function serverProperties(broker: BrokerPlan, cluster: ClusterPlan): string {
  const count = cluster.brokers.length;
  const replication = Math.min(count, 3);
  const minIsr = count >= 3 ? 2 : 1;
  const sasl = cluster.saslSsl && broker.saslPort ? { ...cluster.saslSsl, port: broker.saslPort } : null;
  const saslListener = sasl
    ? `,SASL_SSL://${HOST}:${sasl.port}${broker.oidcPort ? `,OIDC://${HOST}:${broker.oidcPort}` : ""}`
    : "";
  const settings: Record<string, string | number | boolean> = {
    "process.roles": "broker,controller",
    "node.id": broker.id,
    "controller.quorum.bootstrap.servers": cluster.brokers.map((b) => `${HOST}:${b.controllerPort}`).join(","),
    listeners: `PLAINTEXT://${HOST}:${broker.port},CONTROLLER://${HOST}:${broker.controllerPort}${saslListener}`,
    "advertised.listeners": `PLAINTEXT://${HOST}:${broker.port},CONTROLLER://${HOST}:${broker.controllerPort}${saslListener}`,
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "listener.security.protocol.map": `PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT${sasl ? ",SASL_SSL:SASL_SSL,OIDC:SASL_SSL" : ""}`,
    "log.dirs": `${broker.dir}/data`,
    "num.partitions": 3,
    "default.replication.factor": replication,
    "min.insync.replicas": minIsr,
    "offsets.topic.replication.factor": replication,
    // 50 partitions (the default) makes the first consumer group wait for 150 replicas to appear.
    "offsets.topic.num.partitions": 10,
    "transaction.state.log.replication.factor": replication,
    "transaction.state.log.min.isr": minIsr,
    "transaction.state.log.num.partitions": 10,
    "share.coordinator.state.topic.replication.factor": replication,
    "share.coordinator.state.topic.min.isr": minIsr,
    "group.initial.rebalance.delay.ms": 0,
    "auto.create.topics.enable": false,
    // Two cores shared by up to three brokers, Redis and the gateways.
    "num.network.threads": 2,
    "num.io.threads": 4,
    "num.recovery.threads.per.data.dir": 1,
    "background.threads": 4,
    ...(cluster.authorizer ? authorizerSettings(sasl?.username) : {}),
    ...(sasl ? saslSslSettings(sasl) : {}),
    ...(sasl ? oidcSettings(sasl) : {}),
  };
  return `${Object.entries(settings)
    .map(([key, value]) => `${key}=${value}`)
    .join("\n")}\n`;
}

/**
 * On the PLAINTEXT listeners every client — brokers, controllers, Wharf and the test tools alike —
 * is User:ANONYMOUS. Making ANONYMOUS the super user keeps the cluster and Wharf working while ACLs
 * are created, listed and deleted through the real StandardAuthorizer. ACLs are enforced against
 * other principals only on the --sasl-ssl listener (OAUTHBEARER tokens name any subject).
 */
function authorizerSettings(saslUser?: string): Record<string, string | boolean> {
  return {
    "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    // The --sasl-ssl user (its password, or an OAUTHBEARER token with its name as subject) is
    // a super user too: it stands for Wharf, not for a tenant. Other token subjects have no ACLs.
    "super.users": saslUser ? `User:ANONYMOUS;User:${saslUser}` : "User:ANONYMOUS",
    "allow.everyone.if.no.acl.found": false,
  };
}

/**
 * The SASL_SSL listener: PLAIN, SCRAM-SHA-256/512 and OAUTHBEARER, PEM key store and trust store
 * (KIP-651). SCRAM users come from `kafka-storage format --add-scram`, so they exist before the first
 * broker starts; the PLAIN user is in the listener's JAAS config (server.properties holds its
 * password, as the stack's JSON info does). OAUTHBEARER has no server callback handler, so Kafka's
 * unsecured validator checks tokens (alg "none", subject = principal): a development setup, never
 * one for production.
 */
function saslSslSettings(sasl: SaslSslPlan): Record<string, string> {
  const prefix = "listener.name.sasl_ssl";
  return {
    [`${prefix}.sasl.enabled.mechanisms`]: SASL_MECHANISMS.join(","),
    // Kafka's default PLAIN callback handler checks user_<name>="<password>" entries.
    [`${prefix}.plain.sasl.jaas.config`]: `org.apache.kafka.common.security.plain.PlainLoginModule required user_${sasl.username}="${sasl.password}";`,
    ...Object.fromEntries(
      SCRAM_MECHANISMS.map((m) => [
        `${prefix}.${m.toLowerCase()}.sasl.jaas.config`,
        "org.apache.kafka.common.security.scram.ScramLoginModule required;",
      ]),
    ),
    [`${prefix}.oauthbearer.sasl.jaas.config`]: [
      "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required",
      // The broker logs in with a token of its own even though it never uses this listener itself.
      'unsecuredLoginStringClaim_sub="broker"',
      `unsecuredValidatorRequiredScope="${OAUTHBEARER_SCOPE}";`,
    ].join(" "),
    [`${prefix}.ssl.keystore.type`]: "PEM",
    [`${prefix}.ssl.keystore.location`]: sasl.keystore,
    [`${prefix}.ssl.truststore.type`]: "PEM",
    [`${prefix}.ssl.truststore.location`]: sasl.truststore,
  };
}

/**
 * The OIDC listener: OAUTHBEARER only, validated by Kafka's OAuthBearerValidatorCallbackHandler
 * against the stack's JWKS file, with the expected audience and issuer (without them Kafka takes
 * any token the key signed). Same key store and trust store as the SASL_SSL listener.
 */
function oidcSettings(sasl: SaslSslPlan): Record<string, string> {
  const prefix = "listener.name.oidc";
  return {
    [`${prefix}.sasl.enabled.mechanisms`]: "OAUTHBEARER",
    [`${prefix}.oauthbearer.sasl.server.callback.handler.class`]:
      "org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler",
    // The broker still logs in on every OAUTHBEARER listener, with Kafka's default (unsecured) login
    // handler; it never uses this listener as a client.
    [`${prefix}.oauthbearer.sasl.jaas.config`]:
      'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="broker";',
    [`${prefix}.sasl.oauthbearer.jwks.endpoint.url`]: jwksUrl(sasl.oidc),
    [`${prefix}.sasl.oauthbearer.expected.audience`]: sasl.oidc.audience,
    [`${prefix}.sasl.oauthbearer.expected.issuer`]: sasl.oidc.issuer,
    [`${prefix}.ssl.keystore.type`]: "PEM",
    [`${prefix}.ssl.keystore.location`]: sasl.keystore,
    [`${prefix}.ssl.truststore.type`]: "PEM",
    [`${prefix}.ssl.truststore.location`]: sasl.truststore,
  };
}

function jwksUrl(oidc: OidcPlan): string {
  return pathToFileURL(oidc.jwksFile).href;
}

/**
 * Broker JVM options for the OIDC listener: Kafka 4 reads no OAuth URL (a file:// JWKS included)
 * that is not on this allow-list, and refuses to start.
 */
export function oidcJvmOptions(sasl: SaslSslPlan): string[] {
  return [`-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=${jwksUrl(sasl.oidc)}`];
}

/** The `--add-scram` arguments for kafka-storage format: the user, with each SCRAM mechanism. */
export function scramCredentialArgs(sasl: Pick<SaslSslPlan, "username" | "password">): string[] {
  return SCRAM_MECHANISMS.flatMap((m) => ["--add-scram", `${m}=[name=${sasl.username},password=${sasl.password}]`]);
}

/** Log4j2 configuration: everything to one file in the broker's directory, nothing on the console. */
export function log4jProperties(logFile: string): string {
  return [
    "status = warn",
    "appender.file.type = File",
    "appender.file.name = file",
    `appender.file.fileName = ${logFile}`,
    "appender.file.layout.type = PatternLayout",
    "appender.file.layout.pattern = [%d] %p %m (%c)%n",
    "rootLogger.level = INFO",
    "rootLogger.appenderRef.file.ref = file",
    // One line per request at DEBUG; keep it quiet even if someone lowers the root level.
    "logger.request.name = kafka.request.logger",
    "logger.request.level = WARN",
    "",
  ].join("\n");
}
