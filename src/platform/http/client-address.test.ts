import { expect, test } from "bun:test";
import { clientAddress } from "./client-address.ts";

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
