/** Typed search attributes Shipshape sets on its workflows, so the Temporal UI can filter by them. */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const HOST = defineSearchAttributeKey('ShipshapeHost', SearchAttributeType.KEYWORD);
export const ZONE = defineSearchAttributeKey('ShipshapeZone', SearchAttributeType.KEYWORD);
export const PHASE = defineSearchAttributeKey('ShipshapePhase', SearchAttributeType.KEYWORD);
export const POLICY = defineSearchAttributeKey('ShipshapePolicy', SearchAttributeType.KEYWORD);

export const ALL_SEARCH_ATTRIBUTES = [HOST, ZONE, PHASE, POLICY];
