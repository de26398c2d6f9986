/**
 * `npm run bench` — the instrument of the performance work. It measures the shop as it runs: the real
 * process (or the compiled binary) against the local PostgreSQL and RabbitMQ, loaded over HTTP on loopback,
 * on the same machine. It prints figures and asserts nothing: a failed consistency check is printed as
 * MISMATCH and the exit code is still 0; only a run that could not be carried out exits 1. The parts are in
 * scripts/bench/; `--help` lists every option with its default.
 *
 * What it does (throwaway databases and AMQP prefix, all removed afterwards, also on failure and Ctrl-C):
 *   pgbench    the ceiling: the shop's own write for one order (order, 3 lines, history, outbox row with a
 *              ~600-byte jsonb envelope, in one transaction; the orders module's tables) run by pgbench,
 *              8 clients, prepared, in a database of its own. Its tps divides the shop's throughput
 *              ("shop/pgbench 0.05": the shop places orders at 5 % of the rate PostgreSQL can store them).
 *   setup      starts the shop (PORT=0; --split: orders | inventory,notification),
 *              creates the catalog, places warm-up orders until the whole pipeline works.
 *   burst      --orders POST /orders, --concurrency in flight (closed loop): accepted/s and latency; then
 *              the saga until every order is final and the outboxes and queues are empty: 201→confirmed
 *              latency (updatedAt at version 2), confirmations/s.
 *   open loop  --rate orders/s at fixed arrival times for --seconds, whatever the answers (no coordinated
 *              omission): POST and place→confirmed latency from the *scheduled* send; the backlog (pending
 *              orders, unanswered POSTs, unsent outbox rows, queue depths) at the start and the end.
 *   capacity   (--capacity, instead of burst, open loop and reads) open-loop steps, ×1.5 while passing, then
 *              bisection to 10 %: the highest rate with place→confirmed p99 < --slo-ms and no backlog growth.
 *   checks     confirmed + rejected = accepted; reserved stock = units of confirmed orders.
 *   reads      GET /products and GET /orders/:id, --read-concurrency in flight, --read-seconds each.
 *
 * How to read the cost table: per phase, the share of one core used by each group (shop = the shop's
 * processes and their children; pg = PostgreSQL's backends of the databases under test and its server
 * processes; mq = RabbitMQ; gen = this load generator and pgbench; other = the rest of the machine, e.g.
 * another engineer's test suite — a run with a large "other" is not comparable), then CPU ms per unit of
 * work (order final / request answered / pgbench transaction) per group, sys = shop+pg+mq, and PostgreSQL
 * transactions (pg_stat_database), transaction blocks (BEGIN calls) and statements (pg_stat_statements) per
 * unit. The top statements of the burst show where the statements of an order go. Lower is better; compare
 * runs on the same machine, with "other" near 0.
 *
 * Results: bench-results/<ISO time>-<mode>/results.json (every figure, the options, machine, git commit and
 * whether the tree was dirty) and report.html (latency against offered rate; CPU per unit by phase).
 */
import { main } from "./bench/main.ts";

await main(process.argv.slice(2));
