package io.inferium.verifier;

import java.util.List;

/**
 * One generation run's output as the gateway received it: the token ids of each choice and the text of each
 * choice as the node streamed it (the text the client would be served). Both are compared: a node that
 * sends the right ids with other text disagrees as much as one that sends other ids.
 *
 * @param ids   token ids per choice, in choice order
 * @param texts the streamed text per choice, in choice order
 */
public record TextOutput(List<int[]> ids, List<String> texts) {}
