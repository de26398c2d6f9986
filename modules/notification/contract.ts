import type { EventDefinition } from "../../src/platform/messaging/event.ts";

/**
 * The notification module publishes no events (yet): it only listens to orders.
 * The file exists so every module has the same shape and the import rules have one place to point at.
 */
export const notificationEvents: readonly EventDefinition[] = [];
