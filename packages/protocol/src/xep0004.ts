// XEP-0004 Data Forms: as much as query forms need (MAM, search): reading the
// fields of a submitted form, and building a form of fields.

import { Element, xml } from '@switchboard/xml';

export const NS_DATA_FORMS = 'jabber:x:data';

export interface FormField {
  var: string;
  type?: string;
  label?: string;
  /** §3.2: the submitter must fill it in (`<required/>`). */
  required?: boolean;
  values: string[];
}

/** The fields of a form, in document order. */
export function readFormFields(form: Element): FormField[] {
  return form.getChildren('field').map((f) => ({
    var: f.attrs.var ?? '',
    ...(f.attrs.type !== undefined ? { type: f.attrs.type } : {}),
    values: f.getChildren('value').map((v) => v.text()),
  }));
}

/** A form: `type` is 'form' to offer it, 'submit' to fill it in, 'result' to answer. */
export function formElement(type: 'form' | 'submit' | 'result', fields: readonly FormField[]): Element {
  return xml(
    'x',
    { xmlns: NS_DATA_FORMS, type },
    fields.map((f) => xml('field', { var: f.var, type: f.type, label: f.label }, f.required ? xml('required') : undefined, f.values.map((v) => xml('value', {}, v)))),
  );
}
