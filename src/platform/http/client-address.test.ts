import { expect, test } from "bun:test";
import { addressKey, clientAddress } from "./client-address.ts";

const SOCKET = "192.0.2.1";
const withHeader = (name: string, value: string) => new Request("http://localhost/", { headers: { [name]: value } });

test("without a trusted header, then the socket's address, whatever the request says", () => {
  expect(clientAddress(withHeader("x-forwarded-for", "203.0.113.9"), SOCKET, {})).toBe(SOCKET);
});

test("with X-Forwarded-For trusted, then the entry TRUSTED_PROXY_HOPS from the right", () => {
  const request = withHeader("x-forwarded-for", "10.9.9.9, 203.0.113.7 , 198.51.100.2");
  expect(clientAddress(request, SOCKET, { trustedProxyHeader: "x-forwarded-for" })).toBe("198.51.100.2");
  expect(clientAddress(request, SOCKET, { trustedProxyHeader: "x-forwarded-for", trustedProxyHops: 2 })).toBe("203.0.113.7");
  expect(clientAddress(request, SOCKET, { trustedProxyHeader: "x-forwarded-for", trustedProxyHops: 4 })).toBe(SOCKET);
});

test("with a trusted header that is missing, empty or not an address, then the socket's address", () => {
  const settings = { trustedProxyHeader: "x-real-ip" };
  expect(clientAddress(new Request("http://localhost/"), SOCKET, settings)).toBe(SOCKET);
  for (const garbage of ["", "unknown", "1.2.3.4:80", "999.1.1.1", "1.2.3.4 5.6.7.8"]) {
    expect(clientAddress(withHeader("x-real-ip", garbage), SOCKET, settings)).toBe(SOCKET);
  }
  expect(clientAddress(withHeader("x-real-ip", "2001:db8::7"), SOCKET, settings)).toBe("2001:db8::7");
});

test("an IPv4 address counts as itself, an IPv6 address by its /64, an IPv4-mapped one as its IPv4 address", () => {
  expect(addressKey("203.0.113.7")).toBe("203.0.113.7");
  expect(addressKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
  expect(addressKey("2001:db8:1:2:ffff:ffff:ffff:fffe")).toBe("2001:db8:1:2::/64");
  expect(addressKey("2001:0DB8:0001:0002::")).toBe("2001:db8:1:2::/64");
  expect(addressKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
  expect(addressKey("2001:db8:1:3::1")).not.toBe(addressKey("2001:db8:1:2::1"));
  expect(addressKey("::1")).toBe("0:0:0:0::/64");
  expect(addressKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
  expect(addressKey("::ffff:192.0.2.1")).toBe("192.0.2.1");
  expect(addressKey("::ffff:c000:201")).toBe("192.0.2.1");
  expect(addressKey("64:ff9b::192.0.2.1")).toBe("64:ff9b:0:0::/64");
});
