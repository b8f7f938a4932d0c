import { beforeAll, describe, expect, it } from 'vitest';
import { loadFhirDefinitions } from '../definitions.js';
import { type Filter, type SearchRequest, parseNumber, parseSearchRequest, splitUnescaped, unescapeValue } from './parse.js';
import { countQuery, determinesPatientKey, escapeLike, pageQuery } from './sql.js';
import { patientKey } from '../indexer.js';

beforeAll(() => {
  loadFhirDefinitions();
});

function parse(type: string | undefined, query: string, strict = false): { request: SearchRequest; issues: ReturnType<typeof parseSearchRequest>['issues'] } {
  return parseSearchRequest(type, [...new URLSearchParams(query)], { strict });
}

function only(type: string, query: string): Filter {
  const { request, issues } = parse(type, query);
  expect(issues).toEqual([]);
  expect(request.filters).toHaveLength(1);
  return request.filters[0] as Filter;
}

function issueOf(type: string | undefined, query: string, strict = false): { code: string; diagnostics: string; severity: string; expression?: string | undefined } {
  const { request, issues } = parse(type, query, strict);
  expect(issues).toHaveLength(1);
  expect(request.filters).toEqual([]);
  return issues[0] as { code: string; diagnostics: string; severity: string };
}

describe('dates', () => {
  it('reads every prefix, and eq when there is none', () => {
    for (const prefix of ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']) {
      expect(only('Observation', `date=${prefix}2024-03`)).toEqual({
        kind: 'index', table: 'date', param: 'date', negate: false,
        matches: [{ type: 'date', prefix, low: '2024-03-01T00:00:00.000Z', high: '2024-03-31T23:59:59.999Z' }],
      });
    }
    expect(only('Observation', 'date=2024')).toMatchObject({ matches: [{ prefix: 'eq', low: '2024-01-01T00:00:00.000Z', high: '2024-12-31T23:59:59.999Z' }] });
  });

  it('covers the precision the value is written with, time zones included', () => {
    expect(only('Observation', 'date=2024-03-15')).toMatchObject({ matches: [{ low: '2024-03-15T00:00:00.000Z', high: '2024-03-15T23:59:59.999Z' }] });
    expect(only('Observation', 'date=2024-03-15T10:00:00Z')).toMatchObject({ matches: [{ low: '2024-03-15T10:00:00.000Z', high: '2024-03-15T10:00:00.999Z' }] });
    expect(only('Observation', 'date=2024-03-15T10:00:00%2B01:00')).toMatchObject({ matches: [{ low: '2024-03-15T09:00:00.000Z' }] });
    // An unencoded '+' arrives as a space.
    expect(only('Observation', 'date=2024-03-15T10:00:00+01:00')).toMatchObject({ matches: [{ low: '2024-03-15T09:00:00.000Z' }] });
    expect(only('Patient', '_lastUpdated=gt2024-01-01')).toEqual({ kind: 'lastUpdated', matches: [{ type: 'date', prefix: 'gt', low: '2024-01-01T00:00:00.000Z', high: '2024-01-01T23:59:59.999Z' }] });
  });

  it('reports a value that is not a date, naming the parameter', () => {
    const issue = issueOf('Observation', 'date=ge2024-13');
    expect(issue).toMatchObject({ code: 'invalid', severity: 'warning', expression: 'date' });
    expect(issue.diagnostics).toMatch(/^date: 'ge2024-13' is not a date/);
    expect(issueOf('Observation', 'date=yesterday').diagnostics).toContain('date');
    expect(issueOf('Observation', 'date:exact=2024').diagnostics).toBe('date:exact: :exact is not a modifier of date parameters');
  });
});

describe('numbers and quantities', () => {
  it('gives a number the range of its implicit precision', () => {
    expect(parseNumber('100')).toEqual({ value: '100', low: '99.5', high: '100.5', approxLow: '90', approxHigh: '110' });
    expect(parseNumber('100.00')).toMatchObject({ value: '100', low: '99.995', high: '100.005' });
    expect(parseNumber('1e2')).toMatchObject({ value: '100', low: '50', high: '150' });
    expect(parseNumber('1.5e-3')).toMatchObject({ value: '0.0015', low: '0.00145', high: '0.00155' });
    expect(parseNumber('-5')).toMatchObject({ value: '-5', low: '-5.5', high: '-4.5', approxLow: '-5.5', approxHigh: '-4.5' });
    expect(parseNumber('0')).toMatchObject({ low: '-0.5', high: '0.5', approxLow: '-0.5', approxHigh: '0.5' });
    expect(parseNumber('.5')).toMatchObject({ value: '0.5', low: '0.45', high: '0.55' });
    expect(parseNumber('+7')).toMatchObject({ value: '7' });
  });

  it('reads prefixes on numbers (RiskAssessment.probability)', () => {
    for (const prefix of ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']) {
      expect(only('RiskAssessment', `probability=${prefix}0.8`)).toMatchObject({ table: 'number', matches: [{ type: 'number', prefix, value: '0.8', low: '0.75', high: '0.85' }] });
    }
    expect(issueOf('RiskAssessment', 'probability=high').diagnostics).toBe("probability: 'high' is not a number");
  });

  it('reads quantity forms: number, number|system|code and number||code', () => {
    expect(only('Observation', 'value-quantity=5.4')).toMatchObject({ table: 'quantity', matches: [{ type: 'quantity', prefix: 'eq', value: '5.4', system: undefined, code: undefined }] });
    expect(only('Observation', 'value-quantity=gt5.4|http://unitsofmeasure.org|mg')).toMatchObject({
      matches: [{ prefix: 'gt', value: '5.4', low: '5.35', high: '5.45', system: 'http://unitsofmeasure.org', code: 'mg' }],
    });
    expect(only('Observation', 'value-quantity=le5.4||mg')).toMatchObject({ matches: [{ prefix: 'le', system: undefined, code: 'mg' }] });
    expect(issueOf('Observation', 'value-quantity=5.4|mg').diagnostics).toContain('number|system|code');
  });
});

describe('tokens', () => {
  it('reads code, system|code, |code and system|', () => {
    expect(only('Observation', 'code=1234-5')).toMatchObject({ table: 'token', negate: false, matches: [{ type: 'token', system: undefined, code: '1234-5' }] });
    expect(only('Observation', 'code=http://loinc.org|1234-5')).toMatchObject({ matches: [{ system: 'http://loinc.org', code: '1234-5' }] });
    expect(only('Observation', 'code=|1234-5')).toMatchObject({ matches: [{ system: null, code: '1234-5' }] });
    expect(only('Observation', 'code=http://loinc.org|')).toMatchObject({ matches: [{ system: 'http://loinc.org', code: undefined }] });
  });

  it('reads :not, :text and :of-type', () => {
    expect(only('Observation', 'status:not=final')).toMatchObject({ negate: true, matches: [{ type: 'token', code: 'final' }] });
    expect(only('Observation', 'code:text=Blood Prés')).toMatchObject({ negate: false, matches: [{ type: 'token-text', text: 'blood pres' }] });
    expect(only('Patient', 'identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|446053')).toMatchObject({
      matches: [{ type: 'token-of-type', ofType: 'http://terminology.hl7.org/CodeSystem/v2-0203|MR', value: '446053' }],
    });
    expect(issueOf('Patient', 'identifier:of-type=MR|446053').diagnostics).toContain('system|code|value');
  });

  it('reports modifiers it does not serve as not-supported, and wrong ones as invalid', () => {
    expect(issueOf('Observation', 'code:in=http://example.org/vs')).toMatchObject({ code: 'not-supported', diagnostics: 'code:in: the :in modifier is not supported' });
    expect(issueOf('Observation', 'code:below=http://snomed.info/sct|123')).toMatchObject({ code: 'not-supported' });
    expect(issueOf('Observation', 'code:exact=x')).toMatchObject({ code: 'invalid', diagnostics: 'code:exact: :exact is not a modifier of token parameters' });
  });

  it('reads _id, with :not, as resource ids', () => {
    expect(only('Patient', '_id=a,b')).toEqual({ kind: 'id', negate: false, ids: ['a', 'b'] });
    expect(only('Patient', '_id:not=a')).toEqual({ kind: 'id', negate: true, ids: ['a'] });
    expect(issueOf('Patient', '_id=a/b').diagnostics).toBe("_id: 'a/b' is not a valid id");
  });
});

describe('strings and uris', () => {
  it('normalizes a default or :contains value (case, accents, spaces) and keeps :exact as written', () => {
    expect(only('Patient', 'name=  José  María ')).toMatchObject({ table: 'string', matches: [{ type: 'string', mode: 'start', value: 'jose maria' }] });
    expect(only('Patient', 'name:contains=ÉL')).toMatchObject({ matches: [{ mode: 'contains', value: 'el' }] });
    expect(only('Patient', 'family:exact=José')).toMatchObject({ matches: [{ mode: 'exact', value: 'José' }] });
  });

  it('reads uri :below and :above', () => {
    expect(only('ValueSet', 'url=http://acme.org/fhir/ValueSet/x')).toMatchObject({ table: 'uri', matches: [{ type: 'uri', mode: 'exact' }] });
    expect(only('ValueSet', 'url:below=http://acme.org/fhir/')).toMatchObject({ matches: [{ mode: 'below', value: 'http://acme.org/fhir/' }] });
    expect(only('ValueSet', 'url:above=http://acme.org/fhir/ValueSet/x/y')).toMatchObject({ matches: [{ mode: 'above' }] });
    expect(only('Patient', '_profile=http://example.org/p')).toMatchObject({ table: 'uri', param: '_profile' });
  });
});

describe('escaping, OR and AND', () => {
  it('splits on commas not escaped, and unescapes \\, \\$ \\| \\\\', () => {
    expect(splitUnescaped('a,b\\,c,d', ',')).toEqual(['a', 'b\\,c', 'd']);
    expect(unescapeValue('a\\,b\\$c\\|d\\\\e\\x')).toBe('a,b$c|d\\e\\x');
    expect(only('Patient', 'family=Smith\\,Jones')).toMatchObject({ matches: [{ value: 'smith,jones' }] });
    expect(only('Observation', 'code=http://a\\|b|c')).toMatchObject({ matches: [{ system: 'http://a|b', code: 'c' }] });
  });

  it('makes a comma an OR within one filter, and a repeated parameter an AND of two', () => {
    expect(only('Patient', 'gender=male,female')).toMatchObject({ matches: [{ code: 'male' }, { code: 'female' }] });
    const { request } = parse('Patient', 'family=a&family=b');
    expect(request.filters).toHaveLength(2);
  });
});

describe('references, chains and _has', () => {
  it('reads Type/id, a bare id, a versioned reference, an absolute URL and the :Type modifier', () => {
    expect(only('Observation', 'subject=Patient/p1')).toMatchObject({ table: 'reference', matches: [{ type: 'reference', targetType: 'Patient', id: 'p1', version: undefined }] });
    expect(only('Observation', 'subject=p1')).toMatchObject({ matches: [{ type: 'reference', targetType: undefined, id: 'p1' }] });
    expect(only('Observation', 'subject=Patient/p1/_history/2')).toMatchObject({ matches: [{ targetType: 'Patient', id: 'p1', version: '2' }] });
    expect(only('Observation', 'subject=http://other.org/fhir/Patient/p1')).toMatchObject({ matches: [{ type: 'reference-url', url: 'http://other.org/fhir/Patient/p1' }] });
    expect(only('Observation', 'subject:Patient=p1')).toMatchObject({ matches: [{ type: 'reference', targetType: 'Patient', id: 'p1' }] });
    expect(issueOf('Observation', 'subject=Practitioner/x').diagnostics).toBe('subject: subject does not refer to Practitioner');
    expect(issueOf('Observation', 'subject:Practitioner=x').diagnostics).toContain('does not refer to Practitioner');
    expect(issueOf('Observation', 'subject:identifier=http://x|1')).toMatchObject({ code: 'not-supported' });
  });

  it('reads a chain with a type, without one (every target type that has the parameter), and to depth 3', () => {
    expect(only('Observation', 'subject:Patient.name=peter')).toEqual({
      kind: 'chain', param: 'subject',
      targets: [{ type: 'Patient', next: { kind: 'index', table: 'string', param: 'name', negate: false, matches: [{ type: 'string', mode: 'start', value: 'peter' }] } }],
    });
    const untyped = only('Observation', 'subject.name=peter');
    expect(untyped.kind === 'chain' && untyped.targets.map((t) => t.type).sort()).toEqual(['Location', 'Patient']);
    const deep = only('Observation', 'subject:Patient.organization.partof.name:exact=Trust');
    expect(deep).toMatchObject({
      kind: 'chain', param: 'subject',
      targets: [{ type: 'Patient', next: { kind: 'chain', param: 'organization', targets: [{ type: 'Organization', next: { kind: 'chain', param: 'partof', targets: [{ type: 'Organization', next: { kind: 'index', param: 'name', matches: [{ mode: 'exact', value: 'Trust' }] } }] } }] } }],
    });
  });

  it('reports a chain on a parameter that is not a reference, or to a parameter no target has', () => {
    expect(issueOf('Observation', 'code.name=x').diagnostics).toBe('code.name: code is not a reference parameter, so it cannot be chained');
    expect(issueOf('Observation', 'subject.nonsense=x').diagnostics).toMatch(/^subject.nonsense: none of the types subject refers to has a parameter nonsense/);
    expect(issueOf('Observation', 'subject:Patient.nonsense=x').diagnostics).toBe('subject:Patient.nonsense: nonsense is not a search parameter of Patient');
  });

  it('reads _has, nested, and with modifiers at the end', () => {
    expect(only('Patient', '_has:Observation:patient:code=1234-5')).toEqual({
      kind: 'has', type: 'Observation', param: 'patient',
      next: { kind: 'index', table: 'token', param: 'code', negate: false, matches: [{ type: 'token', system: undefined, code: '1234-5' }] },
    });
    expect(only('Patient', '_has:Observation:patient:_has:Provenance:target:agent=Practitioner/x')).toMatchObject({
      kind: 'has', type: 'Observation', param: 'patient', next: { kind: 'has', type: 'Provenance', param: 'target', next: { kind: 'index', param: 'agent' } },
    });
    expect(only('Patient', '_has:Observation:subject:code:not=x')).toMatchObject({ kind: 'has', next: { negate: true } });
    expect(issueOf('Patient', '_has:Observation:code:code=x').diagnostics).toBe('_has:Observation:code:code: code is not a reference parameter of Observation');
    expect(issueOf('Patient', '_has:Observation:patient=x').diagnostics).toContain('_has:Type:parameter:parameter');
    expect(issueOf('Organization', '_has:Observation:patient:code=x').diagnostics).toContain('does not refer to Organization');
  });

  it('reads a composite value a$b, each part as its component type', () => {
    expect(only('Observation', 'code-value-quantity=http://loinc.org|8480-6$lt60|http://unitsofmeasure.org|mm[Hg]')).toMatchObject({
      kind: 'composite', param: 'code-value-quantity', tables: ['token', 'quantity'],
      values: [[{ type: 'token', system: 'http://loinc.org', code: '8480-6' }, { type: 'quantity', prefix: 'lt', value: '60', code: 'mm[Hg]' }]],
    });
    expect(only('Observation', 'code-value-string=a\\$b$x,c$y')).toMatchObject({ values: [[{ code: 'a$b' }, { value: 'x' }], [{ code: 'c' }, { value: 'y' }]] });
    expect(issueOf('Observation', 'code-value-quantity=1234').diagnostics).toContain('must have 2 parts');
  });

  it('reads :missing on any parameter, composite included', () => {
    expect(only('Patient', 'birthdate:missing=true')).toEqual({ kind: 'missing', table: 'date', param: 'birthdate', missing: true });
    expect(only('Observation', 'subject:missing=false')).toEqual({ kind: 'missing', table: 'reference', param: 'subject', missing: false });
    expect(only('Observation', 'code-value-quantity:missing=true')).toMatchObject({ table: 'token', param: 'code-value-quantity$0' });
    expect(issueOf('Patient', 'birthdate:missing=yes').diagnostics).toContain('true or false');
  });
});

describe('result parameters', () => {
  it('reads _sort with several keys and both directions, and _id/_lastUpdated', () => {
    expect(parse('Observation', '_sort=-date,code,_id,-_lastUpdated').request.sort).toEqual([
      { param: 'date', table: 'date', descending: true },
      { param: 'code', table: 'token', descending: false },
      { param: '_id', table: '_id', descending: false },
      { param: '_lastUpdated', table: '_lastUpdated', descending: true },
    ]);
    expect(issueOf('Observation', '_sort=nonsense').diagnostics).toBe('_sort: nonsense is not a search parameter of Observation');
    expect(issueOf('Observation', '_sort=code-value-quantity').code).toBe('not-supported');
  });

  it('reads _count (capped at 1000), _offset, _total, _summary and _elements with defaults', () => {
    const defaults = parse('Patient', '').request;
    expect(defaults).toMatchObject({ count: 20, offset: 0, total: 'accurate', summary: undefined, elements: undefined });
    expect(parse('Patient', '_count=5&_offset=10&_total=none&_summary=data&_elements=name,Patient.gender').request).toMatchObject({
      count: 5, offset: 10, total: 'none', summary: 'data', elements: ['name', 'gender'],
    });
    expect(parse('Patient', '_count=5000').request.count).toBe(1000);
    expect(issueOf('Patient', '_count=-1').diagnostics).toBe("_count: must be a whole number, not '-1'");
    expect(issueOf('Patient', '_total=maybe').expression).toBe('_total');
    expect(issueOf('Patient', '_summary=yes').expression).toBe('_summary');
  });

  it('reads _include and _revinclude: Type:param, Type:param:Target, * and :iterate', () => {
    const { request, issues } = parse('Observation', '_include=Observation:patient&_include=Observation:performer:Practitioner&_include:iterate=Patient:general-practitioner&_revinclude=Provenance:target&_include=*');
    expect(issues).toEqual([]);
    expect(request.include).toEqual([
      { sourceType: 'Observation', param: 'patient', targetType: undefined, iterate: false },
      { sourceType: 'Observation', param: 'performer', targetType: 'Practitioner', iterate: false },
      { sourceType: 'Patient', param: 'general-practitioner', targetType: undefined, iterate: true },
      { sourceType: 'Observation', param: '*', targetType: undefined, iterate: false },
    ]);
    expect(request.revinclude).toEqual([{ sourceType: 'Provenance', param: 'target', targetType: undefined, iterate: false }]);
    expect(issueOf('Observation', '_include=Observation:code').diagnostics).toBe('_include: code is not a reference parameter of Observation');
    expect(issueOf('Observation', '_include=Patient:organization').diagnostics).toContain(':iterate');
    expect(issueOf('Observation', '_include:deep=Observation:patient').expression).toBe('_include:deep');
  });
});

describe('issues', () => {
  it('reports an unknown parameter as not-supported, naming it, as warnings (lenient) or errors (strict)', () => {
    expect(issueOf('Patient', 'colour=red')).toEqual({ severity: 'warning', code: 'not-supported', diagnostics: 'colour: colour is not a search parameter of Patient', expression: 'colour' });
    expect(issueOf('Patient', 'colour=red', true).severity).toBe('error');
  });

  it('reports parameters the specification defines but this server does not serve', () => {
    for (const q of ['_text=x', '_content=x', '_query=x', '_filter=name eq x', '_list=x', '_contained=true']) {
      expect(issueOf('Patient', q).code).toBe('not-supported');
    }
    expect(issueOf('Location', 'near=51.5|-0.1|10|km')).toMatchObject({ code: 'not-supported', diagnostics: 'near: near (a special parameter) is not supported' });
  });

  it('ignores _format and _pretty silently, and keeps only understood parameters for the links', () => {
    const { request, issues } = parse('Patient', '_format=json&_pretty=true&family=x&bogus=1&_count=3');
    expect(issues).toHaveLength(1);
    expect(request.query).toEqual([['family', 'x']]);
  });

  it('reports an empty value', () => {
    expect(issueOf('Patient', 'family=').diagnostics).toBe('family: has no value');
  });
});

describe('system-level search', () => {
  it('takes _type and allows parameters every listed type has alike', () => {
    const { request, issues } = parse(undefined, '_type=Patient,Practitioner&name=smith&_lastUpdated=ge2024');
    expect(issues).toEqual([]);
    expect(request).toMatchObject({ types: ['Patient', 'Practitioner'], systemLevel: true });
    expect(request.filters).toHaveLength(2);
    expect(issueOf(undefined, '_type=Patient,Observation&name=smith').diagnostics).toContain('name is not a search parameter');
    expect(parse(undefined, '_tag=a|b').request.filters).toHaveLength(1);
    expect(issueOf(undefined, 'family=x').diagnostics).toContain('family');
    expect(parse(undefined, '_type=Patient,Nonsense').issues[0]?.diagnostics).toBe('_type: not resource types: Nonsense');
  });
});

describe('sql', () => {
  it('binds every value: none appears in the text', () => {
    const { request } = parse('Patient', "family=o'brien%&gender=male&birthdate=ge1970&_sort=-birthdate&_has:Observation:patient:code=x9y&general-practitioner.name=drwho");
    const page = pageQuery(request, { baseUrl: 'http://fhir.test' }, 21, 0);
    const count = countQuery(request, { baseUrl: 'http://fhir.test' });
    for (const q of [page, count]) {
      for (const secret of ["o'brien", 'male', '1970', 'x9y', 'drwho', 'birthdate', 'Observation']) expect(q.text).not.toContain(secret);
      expect(q.values).toContain("o'brien\\%%");
    }
    expect(page.text).toMatch(/ORDER BY \(SELECT max\(o\d+\.high\) .*\) DESC NULLS LAST, r\.resource_key/);
  });

  it('joins rows of one resource on patient_key as well as resource_key (docs/scale-out.md rule 2)', () => {
    const { request } = parse('Observation', 'code=x&date=ge2024&_sort=date&value-quantity:missing=true&code-value-quantity=x$5');
    const text = pageQuery(request, { baseUrl: 'http://fhir.test' }, 21, 0).text;
    const correlations = text.match(/\w+\.resource_key = \w+\.resource_key/g) ?? [];
    expect(correlations.length).toBeGreaterThanOrEqual(5);
    expect(text.match(/\w+\.patient_key = \w+\.patient_key AND \w+\.resource_key = \w+\.resource_key/g)).toHaveLength(correlations.length);
  });

  it('names the patient keys when the criteria name the Patients (docs/scale-out.md rule 1)', () => {
    expect(determinesPatientKey('Observation', 'subject')).toBe(true);
    expect(determinesPatientKey('Observation', 'patient')).toBe(true);
    expect(determinesPatientKey('Observation', 'performer')).toBe(false);
    expect(determinesPatientKey('Condition', 'patient')).toBe(true);
    expect(determinesPatientKey('Practitioner', 'organization')).toBe(false);
    const keyed = (type: string, query: string): unknown[] => {
      const q = pageQuery(parse(type, query).request, { baseUrl: 'http://fhir.test' }, 21, 0);
      return q.text.includes('r.patient_key = ') ? q.values.filter((v) => typeof v === 'string' && /^\d{6,}$/.test(v) || Array.isArray(v) && v.every((x) => /^\d{6,}$/.test(String(x)))) : [];
    };
    expect(keyed('Observation', 'patient=Patient/p1&code=x')).toEqual([String(patientKey('p1'))]);
    expect(keyed('Observation', 'patient=p1,p2')).toEqual([[String(patientKey('p1')), String(patientKey('p2'))]]);
    expect(keyed('Observation', 'subject=Patient/p1')).toEqual([String(patientKey('p1'))]);
    expect(keyed('Patient', '_id=p1')).toEqual([String(patientKey('p1'))]);
    expect(keyed('Observation', 'subject=p1')).toEqual([]);
    expect(keyed('Observation', 'subject=Patient/p1,Group/g')).toEqual([]);
    expect(keyed('Observation', 'performer=Patient/p1')).toEqual([]);
    expect(keyed('Observation', 'patient:missing=false')).toEqual([]);
    expect(keyed('Practitioner', '_id=p1')).toEqual([]);
  });

  it('escapes LIKE wildcards', () => {
    expect(escapeLike('50%_a\\b')).toBe('50\\%\\_a\\\\b');
  });
});
