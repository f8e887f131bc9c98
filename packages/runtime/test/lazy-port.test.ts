import { describe, expect, it } from "vitest";
import { lazyPort } from "../src/lazy-port.ts";

interface Greeter {
  greet(name: string): Promise<string>;
}

describe("lazyPort: an adapter loaded on its first call", () => {
  it("loads nothing until a method is called, then loads once and keeps `this`", async () => {
    let loads = 0;
    const port = lazyPort<Greeter>(async () => {
      loads++;
      return {
        prefix: "hello",
        async greet(this: { prefix: string }, name: string) {
          return `${this.prefix} ${name}`;
        },
      } as Greeter;
    });
    expect(loads).toBe(0);
    await expect(Promise.all([port.greet("a"), port.greet("b")])).resolves.toEqual(["hello a", "hello b"]);
    await port.greet("c");
    expect(loads).toBe(1);
  });

  it("a failed load is retried by the next call, not cached", async () => {
    let loads = 0;
    const port = lazyPort<Greeter>(async () => {
      loads++;
      if (loads === 1) throw new Error("chunk not readable");
      return { greet: async (name: string) => `hi ${name}` };
    });
    await expect(port.greet("a")).rejects.toThrow("chunk not readable");
    await expect(port.greet("b")).resolves.toBe("hi b");
    expect(loads).toBe(2);
  });

  it("is not a thenable, so awaiting the port does not load it", async () => {
    let loads = 0;
    const port = lazyPort<Greeter>(async () => {
      loads++;
      return { greet: async () => "" };
    });
    expect(await port).toBe(port);
    expect(loads).toBe(0);
  });

  it("a method the adapter lacks is a TypeError naming it", async () => {
    const port = lazyPort<Greeter & { missing(): Promise<void> }>(
      async () => ({ greet: async () => "" }) as never,
    );
    await expect(port.missing()).rejects.toThrow("the port has no method missing");
  });
});
