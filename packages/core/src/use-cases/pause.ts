import type { AppRunnerPauseCalled } from "../domain-events.ts";
import type { Effect } from "../effects.ts";
import { isManaged, resolvePolicy } from "../managed-services.ts";
import { classifyPauser } from "../pause-attribution.ts";
import type { GantryDeps, ManagedService, ServiceRecord } from "../ports.ts";
import { updateServiceRecord } from "./recovery.ts";

/** CloudTrail delivers PauseService records minutes after App Runner's status event. */
export const PAUSE_GRACE_MS = 15 * 60_000;

const RUNNING_OPERATION = new Set(["PENDING", "IN_PROGRESS", "ROLLBACK_IN_PROGRESS"]);

type Pause = NonNullable<ServiceRecord["pause"]>;

/**
 * CloudTrail's record of a PauseService call. Kept as the service's newest call; which pause it
 * explains is decided when the pause is judged (a record may arrive before or after the status
 * event, and a late record of an older call must not explain a newer pause).
 */
export async function recordPauseCall(deps: GantryDeps, event: AppRunnerPauseCalled): Promise<Effect[]> {
  const service = await deps.appRunner.describeService(event.serviceArn);
  const calledAt = event.time.toISOString();
  await updateServiceRecord(deps, service, (current) => {
    if (current.pause?.lastCall && current.pause.lastCall.calledAt >= calledAt) return current;
    return {
      ...current,
      pause: { ...current.pause, lastCall: { actor: event.actor, identity: event.identity, calledAt } },
    };
  });
  return [];
}

/** The call that explains the current pause: one made after the previous pause ended, or none. */
function callOf(pause: Pause) {
  const call = pause.lastCall;
  return call && (!pause.since || call.calledAt > pause.since) ? call : undefined;
}

/**
 * A service's pause, from its status (event or reconciler). A PAUSED service is resumed only where
 * its policy says `autoResume` and CloudTrail shows that declared automation paused it
 * (pause-attribution.ts). A caller nobody knows is treated as a person: left paused, said once.
 * The status event comes before CloudTrail's record, so the decision waits PAUSE_GRACE_MS. A
 * service seen running again ends the pause, so the next one is judged on its own call.
 */
export async function handlePaused(deps: GantryDeps, service: ManagedService): Promise<Effect[]> {
  const now = deps.clock.now();
  const record = await deps.ledger.getServiceRecord(service.serviceName);
  const pause = record?.pause;
  const open = pause?.seenAt !== undefined && !pause.endedAt && !pause.resumedAt;
  if (service.status !== "PAUSED") {
    if (open) {
      await updateServiceRecord(deps, service, (current) => ({
        ...current,
        pause: { ...current.pause, endedAt: now.toISOString() },
      }));
    }
    return [];
  }
  const resolution = resolvePolicy(deps.config, service);
  const autoResume = resolution.ok && resolution.policy.autoResume;
  if (!open) {
    // A new pause: it starts with no caller of its own, whatever explained the previous one.
    const since = pause?.endedAt ?? pause?.resumedAt ?? pause?.seenAt;
    await updateServiceRecord(deps, service, (current) => ({
      ...current,
      pause: {
        ...(current.pause?.lastCall ? { lastCall: current.pause.lastCall } : {}),
        seenAt: now.toISOString(),
        ...(since ? { since } : {}),
      },
    }));
    return [
      {
        type: "paused",
        ...ref(service),
        level: "info",
        reasons: autoResume ? [] : ["policy does not auto-resume"],
        message: autoResume
          ? "paused; resumed automatically if declared automation paused it (CloudTrail tells who)"
          : "paused; left paused",
      },
    ];
  }
  if (!autoResume || now.getTime() - new Date(pause.seenAt as string).getTime() < PAUSE_GRACE_MS) return [];
  const call = callOf(pause);
  if (!call) {
    if (pause.unknownReported) return [];
    await updateServiceRecord(deps, service, (current) => ({
      ...current,
      pause: { ...current.pause, unknownReported: true },
    }));
    return [
      {
        type: "paused",
        ...ref(service),
        level: "warning",
        reasons: [
          "no CloudTrail record of the PauseService call: who paused it is unknown (is a trail logging management events?)",
        ],
        message: "left paused: Gantry only resumes pauses made by declared automation",
      },
    ];
  }
  if (classifyPauser(deps.config, call.identity) !== "automation") return [];
  // Read again right before acting: the tag may be gone, or someone resumed it meanwhile.
  const fresh = await deps.appRunner.describeService(service.serviceArn);
  if (fresh.status !== "PAUSED" || !isManaged(fresh.tags)) return [];
  const operations = await deps.appRunner.listOperations(service.serviceArn);
  if (operations.some((operation) => RUNNING_OPERATION.has(operation.status))) return [];
  const { operationId } = await deps.appRunner.resumeService(service.serviceArn);
  await updateServiceRecord(deps, service, (current) => ({
    ...current,
    pause: { ...current.pause, resumedAt: now.toISOString() },
  }));
  return [
    {
      type: "resume",
      ...ref(service),
      operationId,
      reasons: [`paused by ${call.actor} (declared automation)`],
      message: "resumed (policy autoResume)",
    },
  ];
}

function ref(service: { serviceName: string; serviceArn: string }) {
  return { service: service.serviceName, serviceArn: service.serviceArn };
}
