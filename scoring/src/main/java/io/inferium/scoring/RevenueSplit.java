package io.inferium.scoring;

import io.vertx.core.json.JsonObject;

/**
 * How a charge is shared, in whole percent: the model's developer, the node operators that ran it,
 * and the platform (which takes the remainder, so the three parts always add up to the charge).
 */
public record RevenueSplit(int developerPercent, int operatorsPercent) {

  public static final RevenueSplit DEFAULT = new RevenueSplit(70, 20);

  public RevenueSplit {
    if (developerPercent < 0 || operatorsPercent < 0 || developerPercent + operatorsPercent > 100) {
      throw new IllegalArgumentException("revenue split: developer " + developerPercent + "% + operators "
          + operatorsPercent + "% must be between 0 and 100");
    }
  }

  /** The parts of a charge, in micro-dollars; they sum to {@code chargeMicroUsd} exactly. */
  public JsonObject split(long chargeMicroUsd) {
    long developer = chargeMicroUsd * developerPercent / 100;
    long operators = chargeMicroUsd * operatorsPercent / 100;
    return new JsonObject().put("developer_micro_usd", developer).put("operators_micro_usd", operators)
        .put("platform_micro_usd", chargeMicroUsd - developer - operators);
  }
}
