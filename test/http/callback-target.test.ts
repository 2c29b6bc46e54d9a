import { describe, expect, it } from "vitest";
import { CallbackTargetPolicy, isInternalAddress } from "../../src/outbox/callback-target.ts";

describe("isInternalAddress", () => {
  it("classifies loopback, private, link-local and mapped addresses as internal", () => {
    for (const a of [
      "127.0.0.1",
      "127.255.0.9",
      "0.0.0.0",
      "10.9.8.7",
      "100.100.1.1",
      "169.254.169.254",
      "172.31.0.1",
      "192.168.0.10",
      "224.0.0.1",
      "255.255.255.255",
      "::",
      "::1",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "::ffff:10.0.0.1",
      "fc00::1",
      "fdff:ffff::1",
      "fe80::1",
      "ff02::1",
      "64:ff9b::7f00:1",
      "not-an-address",
    ])
      expect(isInternalAddress(a), a).toBe(true);
  });

  it("lets public addresses through", () => {
    for (const a of ["93.184.215.14", "8.8.8.8", "172.32.0.1", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
      expect(isInternalAddress(a), a).toBe(false);
  });

  it("matches allowed hosts case-insensitively, IPv6 with or without brackets", async () => {
    const policy = new CallbackTargetPolicy({
      allowedHosts: () => ["Hooks.Local", "[::1]"],
      lookup: async () => [{ address: "192.168.1.5", family: 4 }],
    });
    await expect(policy.check("http://hooks.local./x")).resolves.toBeUndefined();
    await expect(policy.check("http://[::1]:8080/x")).resolves.toBeUndefined();
    await expect(policy.check("http://other.local/x")).rejects.toThrow(/private or link-local/);
  });
});
