import type { Datatype } from './datatypes.ts';

/** OIP REST (JSON) shapes. */
export type JsonParameters = Record<string, unknown>;

export interface JsonTensor {
  name: string;
  shape: number[];
  datatype: Datatype;
  parameters?: JsonParameters;
  data: unknown[];
}

export interface JsonRequestedOutput {
  name: string;
  parameters?: JsonParameters;
}

export interface JsonInferRequest {
  id?: string;
  parameters?: JsonParameters;
  inputs: JsonTensor[];
  outputs?: JsonRequestedOutput[];
}

export interface JsonInferResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: JsonParameters;
  outputs: JsonTensor[];
}

/** The OIP error body: `{"error": "..."}` with a 4xx/5xx status. */
export interface JsonError {
  error: string;
}
