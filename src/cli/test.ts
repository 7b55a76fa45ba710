/**
 * `s3pull test SOURCE`: the "Test" button of JSA and Cortex XDR, step by step: credentials and
 * whose they are, the bucket's region, the listing, one object read and parsed. Each failure
 * names the cause and the fix; later steps that depend on it are not tried.
 */
import type { Command } from 'commander';
import { findSource, loadConfigOrExplain, ExitCode, type GlobalOptions } from './context.js';
import { defaultBucketFactory, defaultQueueFactory } from '../service/collector.js';
import { S3Clients } from '../aws/s3-clients.js';
import { s3BucketOptionsFor } from '../aws/s3-bucket.js';
import { parseNotification } from '../queue/notifications.js';
import { isQueued } from '../queue/options.js';
import type { LoadedSource } from '../config/load.js';
import { formatFor } from '../formats/index.js';
import { sourceNamer } from '../poll/identifier.js';
import { compileKeyPattern } from '../util/key-pattern.js';
import { skipReason, type SkipReason } from '../poll/skip-rules.js';
import { previewObject } from '../pipeline/preview.js';
import { discoverPartitions } from '../poll/partitions.js';
import { registerSecret, redact, silentLogger } from '../log/logger.js';
import { createSink } from '../sinks/index.js';
import { secretsOf } from '../aws/credentials.js';
import { fetchChain } from '../net/trust.js';
import { S3PullError, errorMessage } from '../util/errors.js';
import type { ObjectInfo, ObjectRef, S3Getter } from '../aws/types.js';

const LIST_PAGES = 10;
const SKEW_WARNING_MS = 5 * 60_000;

export function registerTest(program: Command): void {
  program
    .command('test')
    .argument('<source>', 'source id')
    .description('check a source end to end and say what to fix: credentials, region, listing (or, for an SQS source, the queue and one receive handed straight back), one object read and parsed, and the output reachable; exits 0 only when all pass')
    .action(async (id: string, _options: unknown, command: Command) => {
      const config = loadConfigOrExplain(command.optsWithGlobals<GlobalOptions>());
      const source = findSource(config, id);
      for (const secret of secretsOf(source.auth)) registerSecret(secret);
      if (source.proxy !== 'none') registerSecret(source.proxy.password);
      const say = (ok: boolean | 'warn', step: string, text: string) =>
        process.stdout.write(`${ok === true ? 'ok  ' : ok === 'warn' ? 'warn' : 'FAIL'}  ${step.padEnd(11)} ${redact(text).replaceAll('\n', '\n                  ')}\n`);
      const signal = AbortSignal.timeout(120_000);
      const bucket = defaultBucketFactory(source, config.trust.ca);
      let failed = false;
      const fail = async (step: string, error: unknown) => {
        failed = true;
        say(false, step, errorMessage(error));
        if (error instanceof S3PullError && error.code === 'TLS_UNTRUSTED') await explainCertificate(source.endpoint, say);
      };

      try {
        const proxyText = source.proxy === 'none' ? '' : `, proxy ${new URL(source.proxy.url).host}`;
        if (source.collection.type === 'sqs') {
          say(true, 'config', `${source.file}: queue ${source.collection.queue_url} (${source.format}${source.bucket ? `, reconcile s3://${source.bucket}/${source.prefix}` : ''}${proxyText})`);
          if (!(await testQueue(source, config.trust.ca, say, signal))) failed = true;
          // Without a bucket of its own (no reconcile) there is nothing to list.
          if (!source.bucket) throw new ExitCode(failed ? 1 : 0);
        } else {
          say(true, 'config', `${source.file}: s3://${source.bucket}/${source.prefix} (${source.format}, region ${source.region}${proxyText})`);
        }

        try {
          const identity = await bucket.whoAmI(signal);
          const key = `${identity.accessKeyId.slice(0, 4)}…${identity.accessKeyId.slice(-4)}`;
          if (identity.arn) say(true, 'credentials', `${source.auth.type}: key ${key} is ${identity.arn}`);
          else say('warn', 'credentials', `${source.auth.type}: key ${key} resolved; STS could not say whose it is (${identity.stsError ?? 'no answer'})`);
        } catch (error) {
          await fail('credentials', error);
          throw new ExitCode(1);
        }

        try {
          const region = await bucket.bucketRegion(signal);
          if (region && source.region !== 'auto' && region !== source.region) {
            const mismatch = `bucket ${source.bucket} is in ${region} but the source says ${source.region}; set region: ${region}`;
            // An S3-compatible store may report any region; only AWS's own answer is decisive.
            if (source.endpoint) say('warn', 'region', mismatch);
            else {
              await fail('region', new Error(mismatch));
              throw new ExitCode(1);
            }
          } else {
            say(true, 'region', `bucket ${source.bucket} exists${region ? ` in ${region}` : ''}`);
          }
        } catch (error) {
          if (error instanceof ExitCode) throw error;
          await fail('region', error);
          throw new ExitCode(1);
        }

        try {
          const partitions = await discoverPartitions(bucket, source.prefix, signal);
          const shown = partitions
            .slice(0, 20)
            .map((partition) => `${partition.prefix || '/'}${partition.unpaddedDates ? ' (date folders without leading zeros: ordered as dates)' : ''}`)
            .join('\n');
          say(true, 'partitions', `${partitions.length} partition(s), each with its own marker:\n${shown}${partitions.length > 20 ? `\n… and ${partitions.length - 20} more` : ''}`);
        } catch (error) {
          await fail('partitions', error);
          throw new ExitCode(1);
        }

        const pattern = compileKeyPattern(source.file_pattern);
        const skipped = new Map<SkipReason, number>();
        let listed = 0;
        let newest: ObjectInfo | undefined;
        let pages = 0;
        let more = false;
        try {
          for await (const page of bucket.listPages(source.prefix, undefined, signal)) {
            pages += 1;
            for (const object of page) {
              listed += 1;
              const reason = skipReason(object, pattern, null);
              if (reason) skipped.set(reason, (skipped.get(reason) ?? 0) + 1);
              else if (!newest || object.lastModified >= newest.lastModified) newest = object;
            }
            if (pages >= LIST_PAGES) {
              more = true;
              break;
            }
          }
        } catch (error) {
          await fail('list', error);
          throw new ExitCode(1);
        }
        const skippedText = [...skipped].map(([reason, count]) => `${count} ${reason}`).join(', ');
        const matching = listed - [...skipped.values()].reduce((a, b) => a + b, 0);
        const counted = `${more ? 'at least ' : ''}${listed} object(s), ${matching} to pull${skippedText ? ` (skipped: ${skippedText})` : ''}`;
        if (matching === 0) {
          failed = true;
          say(false, 'list', `s3://${source.bucket}/${source.prefix}: ${counted}; nothing matches file_pattern ${source.file_pattern} under the prefix: check prefix and file_pattern`);
          throw new ExitCode(1);
        }
        say(true, 'list', `s3://${source.bucket}/${source.prefix}: ${counted}`);

        const offset = bucket.clockOffsetMs();
        if (Math.abs(offset) > SKEW_WARNING_MS) say('warn', 'clock', `this host's clock is ${Math.round(offset / 1000)} s off S3's; fix NTP before S3 refuses requests (15 min)`);

        try {
          const preview = await previewObject(bucket, newest!, formatFor(source), { sourceId: source.id, source: sourceNamer(source), bucket: source.bucket, format: source.format }, signal);
          const bad = preview.badLines > 0 ? `, ${preview.badLines} bad line(s), first at line ${preview.firstBad!.line}: ${preview.firstBad!.reason}` : '';
          if (preview.events === 0) {
            failed = true;
            say(false, 'read', `${newest!.key}: no events${bad}; is format ${source.format} right for these objects?`);
          } else {
            say(true, 'read', `${newest!.key}: ${preview.events} event(s)${bad}; the first, as it would be delivered:\n${preview.firstLine!.length > 2000 ? `${preview.firstLine!.slice(0, 2000)}…` : preview.firstLine}`);
          }
        } catch (error) {
          await fail('read', error);
        }
      } catch (error) {
        if (!(error instanceof ExitCode)) throw error;
      } finally {
        bucket.destroy();
      }
      // The output is checked even when the source failed: both are needed, and both can be fixed now.
      const sink = createSink({ collector: config.collector, trust: config.trust, log: silentLogger });
      try {
        if (sink.probe) {
          const found = await sink.probe(signal);
          say(found.ok, 'output', found.text);
        } else {
          say(true, 'output', sink.description);
        }
      } catch (error) {
        failed = true;
        say(false, 'output', errorMessage(error));
      } finally {
        await sink.close().catch(() => {});
      }
      process.stdout.write(failed ? `\n${source.id}: not working yet; fix what FAIL says and run s3pull test ${source.id} again\n` : `\n${source.id}: all checks passed\n`);
      if (failed) throw new ExitCode(1);
    });
}

/**
 * The queue of an SQS source: its credentials and attributes, then one receive whose messages
 * are handed straight back (visibility 0), and one announced object read and parsed.
 */
async function testQueue(source: LoadedSource, ca: string[] | undefined, say: (ok: boolean | 'warn', step: string, text: string) => void, signal: AbortSignal): Promise<boolean> {
  if (!isQueued(source)) return true;
  if (source.collection.auth) for (const secret of secretsOf(source.collection.auth)) registerSecret(secret);
  const queue = defaultQueueFactory(source, ca);
  const clients = new S3Clients(s3BucketOptionsFor(source, ca));
  try {
    // The objects are read with the source's auth, the queue with its own (or the same).
    try {
      const identity = await clients.bucket(source.bucket || 'any-bucket').whoAmI(signal);
      const key = `${identity.accessKeyId.slice(0, 4)}…${identity.accessKeyId.slice(-4)}`;
      if (identity.arn) say(true, 'credentials', `objects: ${source.auth.type}: key ${key} is ${identity.arn}`);
      else say('warn', 'credentials', `objects: ${source.auth.type}: key ${key} resolved; STS could not say whose it is (${identity.stsError ?? 'no answer'})`);
    } catch (error) {
      say(false, 'credentials', `objects: ${errorMessage(error)}`);
      return false;
    }
    let attributes;
    try {
      attributes = await queue.attributes(signal);
    } catch (error) {
      say(false, 'queue', errorMessage(error));
      return false;
    }
    const visibilityS = source.collection.visibility_timeout / 1000;
    const redrive = attributes.redrive
      ? `redrive to ${attributes.redrive.deadLetterTargetArn} after ${attributes.redrive.maxReceiveCount} receives`
      : 'no redrive policy: a message s3pull cannot read stays until the queue drops it (set one, or dead_letter_queue_url)';
    say(attributes.redrive || source.collection.dead_letter_queue_url ? true : 'warn', 'queue', `${source.collection.auth?.type ?? source.auth.type} credentials work; ${attributes.messages} message(s) waiting, ${attributes.messagesInFlight} in flight; the queue's visibility timeout is ${attributes.visibilityTimeoutS} s (s3pull asks for ${visibilityS} s and extends it); ${redrive}`);
    let messages;
    try {
      messages = await queue.receive(10, 1, 30, signal);
    } catch (error) {
      say(false, 'receive', errorMessage(error));
      return false;
    }
    // What was seen goes back at once: a test must not hold messages from the service.
    await Promise.all(messages.map((message) => queue.changeVisibility(message.receiptHandle, 0).catch(() => {})));
    const announced = messages.map((message) => ({ message, note: parseNotification(message.body) }));
    const shapes = announced.map(({ note }) => (note.kind === 'objects' ? `${note.shape} (${note.objects.length} object(s))` : note.kind === 'unknown' ? `not understood: ${note.reason}` : note.kind));
    say(true, 'receive', messages.length === 0 ? 'the queue is empty now (nothing to read)' : `${messages.length} message(s), handed back at once: ${shapes.join('; ')}`);
    const first = announced.flatMap(({ note }) => (note.kind === 'objects' ? note.objects : []))[0];
    if (!first) return true;
    try {
      const preview = await previewObject(singleGetterFor(clients, first), { key: first.key, etag: first.etag, size: first.size, lastModified: first.lastModified }, formatFor(source), { sourceId: source.id, source: sourceNamer(source), bucket: first.bucket, format: source.format }, signal);
      if (preview.events === 0) {
        say(false, 'read', `s3://${first.bucket}/${first.key}: no events; is format ${source.format} right for these objects?`);
        return false;
      }
      say(true, 'read', `s3://${first.bucket}/${first.key}: ${preview.events} event(s); the first, as it would be delivered:\n${preview.firstLine!.length > 2000 ? `${preview.firstLine!.slice(0, 2000)}…` : preview.firstLine}`);
      return true;
    } catch (error) {
      say(false, 'read', errorMessage(error));
      return false;
    }
  } finally {
    queue.destroy();
    clients.destroy();
  }
}

function singleGetterFor(clients: S3Clients, object: ObjectRef): S3Getter {
  return { get: (key, signal) => clients.get({ ...object, key }, signal) };
}

/** For an untrusted certificate: what the server presents, so the operator can check and trust it. */
async function explainCertificate(endpoint: string | undefined, say: (ok: boolean | 'warn', step: string, text: string) => void): Promise<void> {
  if (!endpoint) return;
  const url = new URL(endpoint);
  const port = Number(url.port || 443);
  try {
    const chain = await fetchChain(url.hostname, port);
    const lines = chain.map((cert) => `${cert.subject} (issued by ${cert.issuer}, expires ${cert.validTo.toISOString().slice(0, 10)})\n  SHA-256 ${cert.fingerprint256}`);
    say('warn', 'certificate', `${url.hostname}:${port} presents:\n${lines.join('\n')}\nif these are your CA's, run: s3pull certs fetch ${url.hostname}:${port}`);
  } catch (error) {
    say('warn', 'certificate', `could not read the certificate of ${url.hostname}:${port}: ${errorMessage(error)}`);
  }
}
