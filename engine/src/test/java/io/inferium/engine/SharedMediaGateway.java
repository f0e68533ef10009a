package io.inferium.engine;

/**
 * One gateway with one worker for the media classes ({@code PredictIT}, {@code MediaArenaIT}): each deploys its own
 * functions under its own tenants, so they share only the start. Started by the first class that asks
 * ({@code @BeforeAll static void start(TestGateway gw)} with {@code @ExtendWith(SharedMediaGateway.class)}) and
 * closed once, when the whole run ends (JUnit's root store).
 */
final class SharedMediaGateway extends SharedGateway {

  @Override
  protected TestGateway start() throws Exception {
    return TestGateway.start(1);
  }
}
