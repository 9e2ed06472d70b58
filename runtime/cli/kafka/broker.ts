/**
 * Kafka broker tooling for tests, benches and local scripts: fetch the jars
 * (scripts/fetch-kafka.sh) and run one KRaft broker on free loopback ports.
 * It lives beside the Hazelcast member tooling and, like it, apart from the
 * engine it serves (runtime/streams/kafka/ connects to whatever --stream names).
 */
export { BrokerStartError, fetchKafkaLibs, startBroker } from './broker-process.js';
export type { RunningBroker, StartBrokerOptions } from './broker-process.js';
export { brokerProperties, newClusterId } from './broker-config.js';
export { probeBroker } from './broker-probe.js';
