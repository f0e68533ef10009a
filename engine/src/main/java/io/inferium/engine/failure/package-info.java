/**
 * Why a request was not answered with a result: the failures the schedulers, the worker calls and
 * the routes share. Depends on nothing else in the engine, so every layer can name them and only the
 * routes ({@code api.Failures}) turn them into HTTP statuses.
 */
package io.inferium.engine.failure;
