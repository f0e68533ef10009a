package io.inferium.engine.auth;

/**
 * Who is calling: the key used, its role, its tenant and the tenant's tier (both null for platform
 * keys such as the bootstrap admin key, which no tier limits).
 */
public record Principal(String keyId, Role role, String tenantId, String tier) {

  /**
   * What a key may do; admin may do everything. An operator (a platform key, no tenant) only reads
   * what running the platform needs: {@code /metrics} and node info; it manages nothing and calls no
   * function.
   */
  public enum Role { ADMIN, DEVELOPER, OPERATOR, USER }

  public boolean isAdmin() {
    return role == Role.ADMIN;
  }

  /** Whether this key may read the gateway's metrics (admin and operator keys). */
  public boolean mayOperate() {
    return role == Role.ADMIN || role == Role.OPERATOR;
  }

  /** Whether this caller may see a function owned by {@code owner} with the given visibility. */
  public boolean maySee(String owner, boolean isPublic) {
    return isPublic || isAdmin() || (tenantId != null && tenantId.equals(owner));
  }

  /** Whether this caller may change (deploy over, delete) a function owned by {@code owner}. */
  public boolean mayManage(String owner) {
    return isAdmin() || (role == Role.DEVELOPER && tenantId != null && tenantId.equals(owner));
  }
}
