package io.inferium.engine.schedule;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A queue by priority: a FIFO per level, lower numbers first. Every change is counted in the
 * scheduler's shared total too. Used on its scheduler's context only.
 *
 * @param <T> what waits
 */
public final class Levels<T> {

  private final TreeMap<Integer, ArrayDeque<T>> levels = new TreeMap<>();
  private final AtomicInteger total;
  private int size;

  /** {@code total} counts what waits in every queue of the scheduler. */
  public Levels(AtomicInteger total) {
    this.total = total;
  }

  public int size() {
    return size;
  }

  public boolean isEmpty() {
    return size == 0;
  }

  /** Joins the back of its level. */
  public void add(int priority, T item) {
    levels.computeIfAbsent(priority, p -> new ArrayDeque<>()).addLast(item);
    size++;
    total.incrementAndGet();
  }

  /** Goes back to the front of its level (after a lost worker). */
  public void addFirst(int priority, T item) {
    levels.computeIfAbsent(priority, p -> new ArrayDeque<>()).addFirst(item);
    size++;
    total.incrementAndGet();
  }

  public boolean remove(int priority, T item) {
    ArrayDeque<T> level = levels.get(priority);
    if (level != null && level.remove(item)) {
      size--;
      total.decrementAndGet();
      if (level.isEmpty()) {
        levels.remove(priority);
      }
      return true;
    }
    return false;
  }

  /** The next to serve, or null. */
  public T peek() {
    Map.Entry<Integer, ArrayDeque<T>> first = levels.firstEntry();
    return first == null ? null : first.getValue().peekFirst();
  }

  /** Everything waiting, in service order. */
  public List<T> inOrder() {
    List<T> out = new ArrayList<>(size);
    for (ArrayDeque<T> level : levels.values()) {
      out.addAll(level);
    }
    return out;
  }
}
