package io.inferium.loadtest;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.WebClient;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;

/**
 * What a load run sends: one fixed body to {@code POST /v2/models/{function}/infer} on a loopback
 * server. Only loopback addresses are accepted, so a load run can never hit another machine.
 */
public record LoadTarget(String host, int port, String path, MultiMap headers, Buffer body, long timeoutMs) {

  public static final long DEFAULT_TIMEOUT_MS = 30_000;

  public LoadTarget {
    requireLoopback(host);
    headers = MultiMap.caseInsensitiveMultiMap().addAll(headers);
  }

  /** A target for {@code function} on the server at {@code baseUrl} (scheme http, loopback host). */
  public static LoadTarget infer(String baseUrl, String function, String key, InferBody body) {
    URI uri = URI.create(baseUrl);
    if (!"http".equals(uri.getScheme()) || uri.getHost() == null) {
      throw new IllegalArgumentException("expected http://<loopback host>:<port>, got " + baseUrl);
    }
    int port = uri.getPort() < 0 ? 80 : uri.getPort();
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().addAll(body.headers());
    if (key != null && !key.isBlank()) {
      headers.set("Authorization", "Bearer " + key);
    }
    return new LoadTarget(uri.getHost(), port, "/v2/models/" + function + "/infer", headers, body.bytes(), DEFAULT_TIMEOUT_MS);
  }

  static void requireLoopback(String host) {
    try {
      for (InetAddress a : InetAddress.getAllByName(host)) {
        if (!a.isLoopbackAddress()) {
          throw new IllegalArgumentException("load runs only target loopback addresses; " + host + " is " + a);
        }
      }
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("unknown host " + host, e);
    }
  }

  HttpRequest<Buffer> request(WebClient client) {
    return client.post(port, host, path).putHeaders(headers).timeout(timeoutMs);
  }
}
