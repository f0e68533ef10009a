package io.inferium.engine.auth;

/**
 * Who is calling: the key used, its role and its tenant (null for platform keys such as the
 * bootstrap admin key).
 */
public record Principal(String keyId, Role role, String tenantId) {

  /** What a key may do; admin may do everything. */
  public enum Role { ADMIN, DEVELOPER, USER }

  public boolean isAdmin() {
    return role == Role.ADMIN;
  }
}
