package io.inferium.functions.generation;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaNodePreProcessor;
import com.hubspot.jinjava.el.JinjavaProcessors;
import com.hubspot.jinjava.el.TypeConvertingMapELResolver;
import com.hubspot.jinjava.el.ext.JinjavaBeanELResolver;
import com.hubspot.jinjava.el.ext.JinjavaListELResolver;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.loader.ResourceNotFoundException;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.util.ForLoop;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import jinjava.javax.el.ArrayELResolver;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ELContext;

/**
 * The sandbox chat templates render in. A template is code written by whoever deployed the model
 * and runs inside a worker shared with other tenants' functions, so it gets:
 * <ul>
 *   <li>no resource loader: {@code include}, {@code import}, {@code from}, {@code extends} and
 *       {@code block} are disabled, and the loader refuses every name, so no file of the server
 *       can be read;</li>
 *   <li>allow-lists: the tags, filters and functions Hugging Face templates use (Jinjava's
 *       others are disabled); method calls only to Python's {@code str} methods of
 *       {@link TemplateStrings#STRING_METHODS}, {@code dict.get/items/keys/values} and
 *       {@code loop.cycle}, no Java method of any object; properties only of maps, lists and
 *       {@code loop};</li>
 *   <li>limits: output and any one string ≤ {@link Limits#maxOutputChars()}, lists and maps ≤
 *       {@link #MAX_COLLECTION}, {@code range} ≤ {@link #RANGE_LIMIT}, and per render at most
 *       {@link Limits#maxNodes()} template nodes and {@link Limits#maxTime()} of wall time, checked
 *       at every node, so nested loops and recursion end on the calling thread.</li>
 * </ul>
 * A render that breaks a rule ends with a {@link Violation} naming it.
 */
final class TemplateSandbox {

  /** The bounds of one render. */
  record Limits(long maxOutputChars, long maxNodes, Duration maxTime) {
    /** 2 Mi characters of output, 2 million nodes, 2 seconds. */
    static final Limits DEFAULT = new Limits(2L << 20, 2_000_000, Duration.ofSeconds(2));
  }

  static final int RANGE_LIMIT = 10_000;
  static final int MAX_COLLECTION = 100_000;

  static final Set<String> TAGS = Set.of("if", "elif", "else", "endif", "for", "endfor", "set", "endset", "macro",
      "endmacro", "call", "endcall", "raw", "endraw", "break", "continue", "unless", "endunless");
  static final Set<String> FILTERS = Set.of("abs", "bool", "capitalize", "count", "d", "default", "dictsort", "e",
      "escape", "first", "float", "forceescape", "groupby", "int", "join", "last", "length", "list", "lower", "map",
      "reject", "rejectattr", "replace", "reverse", "round", "safe", "select", "selectattr", "sort", "string", "sum",
      "title", "tojson", "trim", "unique", "upper", "wordcount");
  static final Set<String> FUNCTIONS = Set.of(":range", ":namespace");

  /** A rule of the sandbox was broken; the message says which, and nothing of the server. */
  static final class Violation extends RuntimeException {
    Violation(String message) {
      super(message, null, false, false);
    }
  }

  private static final ThreadLocal<Budget> CURRENT = new ThreadLocal<>();

  private final Limits limits;
  private final Jinjava jinjava;

  TemplateSandbox(Limits limits) {
    this.limits = limits;
    JinjavaConfig config = JinjavaConfig.newBuilder()
        .withTrimBlocks(true)
        .withLstripBlocks(true)
        // Python Jinja2's behaviour, which Hugging Face templates are written for: {{- -}} trims,
        // Python operator precedence, dict keys evaluated and iterated, Python-style reprs.
        .withLegacyOverrides(LegacyOverrides.newBuilder().withUseTrimmingForNotesAndExpressions(true)
            .withParseWhitespaceControlStrictly(true).withUseNaturalOperatorPrecedence(true).withEvaluateMapKeys(true)
            .withIterateOverMapKeys(true).withUsePyishObjectMapper(true).withKeepNullableLoopValues(true).build())
        .withDisabled(disabled())
        .withElResolver(new CompositeELResolver() {
          {
            add(new ArrayELResolver(true));
            add(new JinjavaListELResolver(true));
            add(new TypeConvertingMapELResolver(true));
            add(new MethodAllowList());
          }
        })
        .withProcessors(JinjavaProcessors.newBuilder().withNodePreProcessor(new JinjavaNodePreProcessor() {
          @Override
          public void accept(Node node, JinjavaInterpreter interpreter) {
            super.accept(node, interpreter);
            Budget budget = CURRENT.get();
            if (budget != null) {
              budget.step();
            }
          }

          @Override
          protected void checkForInterrupt(Node node) {
            // Budget.step checks it and says so in the template's error.
          }
        }).build())
        .withMaxOutputSize(limits.maxOutputChars())
        .withMaxStringLength(limits.maxOutputChars())
        .withMaxListSize(MAX_COLLECTION)
        .withMaxMapSize(MAX_COLLECTION)
        .withRangeLimit(RANGE_LIMIT)
        .withEnableRecursiveMacroCalls(false)
        .withNestedInterpretationEnabled(false)
        .build();
    jinjava = new Jinjava(config);
    jinjava.setResourceLocator((name, encoding, interpreter) -> {
      throw new ResourceNotFoundException("chat templates cannot load other templates or files");
    });
    jinjava.getGlobalContext().registerFunction(
        new ELFunctionDefinition("", "raise_exception", ChatTemplate.class, "raiseException", String.class));
    jinjava.getGlobalContext().registerFilter(new BoundedReplace());
  }

  Limits limits() {
    return limits;
  }

  Jinjava jinjava() {
    return jinjava;
  }

  /** Opens the budget of one render on this thread; close it when the render returns. */
  Budget open() {
    Budget budget = new Budget(limits);
    CURRENT.set(budget);
    return budget;
  }

  /** Everything Jinjava registers that is not on an allow-list. */
  private static Map<Context.Library, Set<String>> disabled() {
    Context all = new Jinjava().getGlobalContext();
    Map<Context.Library, Set<String>> off = new EnumMap<>(Context.Library.class);
    off.put(Context.Library.TAG, all.getAllTags().stream().map(t -> t.getName()).filter(n -> !TAGS.contains(n))
        .collect(Collectors.toCollection(HashSet::new)));
    off.put(Context.Library.FILTER, all.getAllFilters().stream().map(Filter::getName)
        .filter(n -> !FILTERS.contains(n)).collect(Collectors.toCollection(HashSet::new)));
    off.put(Context.Library.FUNCTION, all.getAllFunctions().stream().map(ELFunctionDefinition::getName)
        .filter(n -> !FUNCTIONS.contains(n)).collect(Collectors.toCollection(HashSet::new)));
    return off;
  }

  /** One render's work: nodes visited, its deadline, and the first rule it broke. */
  static final class Budget implements AutoCloseable {
    private final long maxNodes;
    private final long deadline;
    private final Limits limits;
    private long nodes;
    private String violation;

    private Budget(Limits limits) {
      this.limits = limits;
      this.maxNodes = limits.maxNodes();
      this.deadline = System.nanoTime() + limits.maxTime().toNanos();
    }

    void step() {
      if (violation != null) {
        throw new Violation(violation);
      }
      if (Thread.currentThread().isInterrupted()) {
        fail("the render was interrupted");
      }
      if (++nodes > maxNodes) {
        fail("the template did more than " + maxNodes + " steps of work (loops too large)");
      }
      if ((nodes & 63) == 0 && System.nanoTime() - deadline > 0) {
        fail("the template took longer than " + limits.maxTime().toMillis() + " ms to render");
      }
    }

    void fail(String why) {
      if (violation == null) {
        violation = why;
      }
      throw new Violation(violation);
    }

    /** The first rule this render broke, or null. */
    String violation() {
      return violation;
    }

    long nodes() {
      return nodes;
    }

    @Override
    public void close() {
      CURRENT.remove();
    }
  }

  private static Budget budget() {
    Budget b = CURRENT.get();
    if (b == null) {
      throw new Violation("a chat template renders only inside its sandbox");
    }
    return b;
  }

  /**
   * The last resolver of the chain: it answers property reads on {@code loop} only, and method
   * calls only from the allow-lists; every other Java member of every object is out of reach.
   */
  private final class MethodAllowList extends JinjavaBeanELResolver {
    MethodAllowList() {
      super(true);
    }

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
      if (base instanceof ForLoop) {
        return super.getValue(context, base, property);
      }
      if (base != null) {
        context.setPropertyResolved(true);
      }
      return null;
    }

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
      if (base == null || method == null) {
        return null;
      }
      Budget budget = budget();
      budget.step();
      String name = method.toString();
      Object[] args = params == null ? new Object[0] : params;
      Object result;
      if (base instanceof String s && TemplateStrings.STRING_METHODS.contains(name)) {
        try {
          result = TemplateStrings.call(s, name, args, limits.maxOutputChars());
        } catch (Violation v) {
          budget.fail(v.getMessage());
          return null;
        }
      } else if (base instanceof Map<?, ?> m && TemplateStrings.MAP_METHODS.contains(name)) {
        result = TemplateStrings.call(m, name, args);
      } else if (base instanceof Filter f && "filter".equals(name) && FILTERS.contains(f.getName())
          || base instanceof ExpTest && ("evaluate".equals(name) || "evaluateNegated".equals(name))) {
        // How Jinjava applies `x|trim` and `x is defined`: the filter or test object's own method.
        return super.invoke(context, base, method, paramTypes, params);
      } else if (base instanceof ForLoop loop && "cycle".equals(name)) {
        result = args.length == 0 ? null : loop.cycle(args);
      } else {
        String type = base instanceof String ? "a string" : base instanceof Map ? "a mapping"
            : base instanceof Iterable ? "a list" : "this value";
        budget.fail("calling '" + name + "' on " + type + " is not allowed in a chat template");
        return null;
      }
      context.setPropertyResolved(true);
      return result;
    }
  }

  /** {@code replace(old, new[, count])} with the result's length checked before it is built. */
  private final class BoundedReplace implements Filter {
    @Override
    public String getName() {
      return "replace";
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
      if (var == null) {
        return null;
      }
      if (args.length < 2) {
        throw new IllegalArgumentException("replace needs two arguments: old and new");
      }
      long count = args.length > 2 && args[2] != null ? Long.parseLong(args[2].trim()) : -1;
      try {
        return TemplateStrings.replace(var.toString(), args[0], args[1], count, limits.maxOutputChars());
      } catch (Violation v) {
        budget().fail(v.getMessage());
        return null;
      }
    }
  }
}
