package io.inferium.functions;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/** What a function does, which decides its endpoints, metrics and evaluation suite. */
public enum FunctionKind {
  TENSOR("tensor"),
  CLASSIFIER("classifier"),
  REGRESSOR("regressor"),
  EMBEDDING("embedding"),
  TEXT_GENERATION("text-generation"),
  /** Takes an image (decoded and pre-processed in the worker), answers labels with scores. */
  IMAGE_CLASSIFIER("image-classifier"),
  /** Takes an image, answers an embedding vector. */
  IMAGE_EMBEDDING("image-embedding"),
  /** Takes an image, answers the model's output tensors as they are. */
  IMAGE("image"),
  /** Takes an audio clip (WAV, decoded and resampled in the worker); answers labels when it has them, else tensors. */
  AUDIO("audio"),
  /**
   * Takes a video (MP4/H.264, decoded in the worker); a per-frame image model runs on frames sampled at the spec's
   * rate, answering labels per frame and pooled over the video.
   */
  VIDEO("video");

  private final String wire;

  FunctionKind(String wire) {
    this.wire = wire;
  }

  public String wire() {
    return wire;
  }

  /** Whether requests carry an image that the worker decodes and pre-processes into the model's input. */
  public boolean image() {
    return this == IMAGE_CLASSIFIER || this == IMAGE_EMBEDDING || this == IMAGE;
  }

  /** Whether requests carry media (images, audio or video) that the worker decodes into the model's input. */
  public boolean media() {
    return image() || this == AUDIO || this == VIDEO;
  }

  public static Optional<FunctionKind> fromWire(String s) {
    return Arrays.stream(values()).filter(k -> k.wire.equals(s)).findFirst();
  }

  public static String accepted() {
    return Arrays.stream(values()).map(FunctionKind::wire).collect(Collectors.joining(" | "));
  }
}
