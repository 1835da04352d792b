/**
 * Failure types shared by activities, workflows and the API. Activities mark
 * permanent failures with one of these as the `ApplicationFailure` type; the
 * API maps update-validator rejections to HTTP statuses by type.
 */
export const FailureType = {
  /** The provider said no in a way retrying will not change. */
  ProviderRejected: 'ProviderRejected',
  /** The provider could not be reached or answered with a transient error (retried until the step's time is up). */
  ProviderUnavailable: 'ProviderUnavailable',
  /** A server could not be moved off the host. */
  MigrationFailed: 'MigrationFailed',
  /** No other host can take the server. */
  NoValidHost: 'NoValidHost',
  /** The host is not known to the provider. */
  UnknownHost: 'UnknownHost',
  /** A power action did not reach its target state in time. */
  PowerActionTimedOut: 'PowerActionTimedOut',
  /**
   * A worker died while a power action was being requested and the host is on:
   * whether the action reached the provider is unknown, so it is not repeated.
   */
  PowerActionUncertain: 'PowerActionUncertain',
  /**
   * A person took the host over while Shipshape held it (re-enabled it, disabled
   * it with their own reason, put it in maintenance): the action was not taken.
   */
  PersonOverride: 'PersonOverride',
  /** An Update arrived in a phase that does not accept it. */
  WrongPhase: 'WrongPhase',
  /** A compliance scan named a profile the profiles' folder does not have. */
  UnknownProfile: 'UnknownProfile',
  /** The compliance profiles' folder does not load (a file's line and column say where). */
  BadProfile: 'BadProfile',
  /** The caller may not do this (e.g. approve their own request). */
  Forbidden: 'Forbidden',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];
