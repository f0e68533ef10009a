package io.inferium.engine.api;

import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * Vert.x Web's {@link BodyHandler} that leaves its limit on the request, so the 413 it answers for a body over the
 * limit ({@link Failures}) names the limit instead of saying only "too large". It is still a {@code BodyHandler}, so
 * the router orders it as one.
 */
final class LimitedBodyHandler implements BodyHandler {

  /** The routing-context key of the body limit of the route that read (or refused) the body. */
  static final String LIMIT = "inferium.bodyLimit";

  private final BodyHandler delegate;
  private long limit = DEFAULT_BODY_LIMIT;

  private LimitedBodyHandler(BodyHandler delegate) {
    this.delegate = delegate;
  }

  /** {@link BodyHandler#create(boolean)}. */
  static BodyHandler create(boolean handleFileUploads) {
    return new LimitedBodyHandler(BodyHandler.create(handleFileUploads));
  }

  /** {@link BodyHandler#create(String)}. */
  static BodyHandler create(String uploadsDirectory) {
    return new LimitedBodyHandler(BodyHandler.create(uploadsDirectory));
  }

  @Override
  public void handle(RoutingContext ctx) {
    if (limit >= 0) {
      ctx.put(LIMIT, limit);
    }
    delegate.handle(ctx);
  }

  @Override
  public BodyHandler setBodyLimit(long bodyLimit) {
    delegate.setBodyLimit(bodyLimit);
    limit = bodyLimit;
    return this;
  }

  @Override
  public BodyHandler setHandleFileUploads(boolean handleFileUploads) {
    delegate.setHandleFileUploads(handleFileUploads);
    return this;
  }

  @Override
  public BodyHandler setUploadsDirectory(String uploadsDirectory) {
    delegate.setUploadsDirectory(uploadsDirectory);
    return this;
  }

  @Override
  public BodyHandler setMergeFormAttributes(boolean mergeFormAttributes) {
    delegate.setMergeFormAttributes(mergeFormAttributes);
    return this;
  }

  @Override
  public BodyHandler setDeleteUploadedFilesOnEnd(boolean deleteUploadedFilesOnEnd) {
    delegate.setDeleteUploadedFilesOnEnd(deleteUploadedFilesOnEnd);
    return this;
  }

  @Override
  public BodyHandler setPreallocateBodyBuffer(boolean isPreallocateBodyBuffer) {
    delegate.setPreallocateBodyBuffer(isPreallocateBodyBuffer);
    return this;
  }
}
