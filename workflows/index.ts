export { remediationWorkflow } from './remediation';
export { refreshHostWorkflow, telemetrySweepWorkflow } from './telemetry';
