// The CSV rules of bulk runs (runbook/csv.ts): the one copy the server checks every file with, and
// so what the designer's preview and the CLI's dry run show.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkCsv, parseCsv } from '../runbook/csv.ts';
import { onboarding } from './runbook-fixtures.ts';


describe('bulk CSV', () => {
  it('parses quoted fields, doubled quotes, CRLF, semicolons and tabs', () => {
    assert.deepEqual(parseCsv('a,b\r\n"x, y","say ""hi"""\n'), [['a', 'b'], ['x, y', 'say "hi"']]);
    assert.deepEqual(parseCsv('a;b\n1;2'), [['a', 'b'], ['1', '2']]);
    assert.deepEqual(parseCsv('\uFEFFa\tb\n1\t2\n\n'), [['a', 'b'], ['1', '2']]);
  });

  it('reports each bad row and duplicates before anything starts', () => {
    const csv = [
      'userPrincipalName,givenName,surname,department',
      'anna@contoso.com,Anna,Lindqvist,Finance',
      'not-an-email,Bo,Berg,Sales',
      'cara@contoso.com,,Chen,IT',
      'anna@contoso.com,Anna,Lindqvist,Finance',
    ].join('\n');
    const report = checkCsv(onboarding, csv);
    assert.deepEqual(report.problems, []);
    assert.deepEqual(report.rows.map((r) => [r.line, r.status]), [[2, 'ok'], [3, 'error'], [4, 'error'], [5, 'error']]);
    assert.deepEqual(report.rows[0]!.inputs, { userPrincipalName: 'anna@contoso.com', givenName: 'Anna', surname: 'Lindqvist', department: 'Finance', usageLocation: 'US', licence: 'SPE_E3', group: 'All Company' });
    assert.match(report.rows[1]!.problems[0]!.message, /does not match the pattern/);
    assert.equal(report.rows[1]!.problems[0]!.field, 'userPrincipalName');
    assert.deepEqual(report.rows[2]!.problems.map((p) => [p.field, p.kind]), [['givenName', 'type']]);
    assert.match(report.rows[2]!.problems[0]!.message, /required/);
    assert.deepEqual(report.rows[3]!.problems.map((p) => [p.field, p.kind, p.message]), [['(row)', 'duplicate', 'duplicate of line 2']]);
  });

  it('names unknown and missing columns for the whole file', () => {
    const unknown = checkCsv(onboarding, 'userPrincipalName,givenName,surname,shoeSize\nx@y.z,A,B,44');
    assert.deepEqual(unknown.columns.unknown, ['shoeSize']);
    assert.match(unknown.problems[0]!, /unknown column: shoeSize \(the runbook takes: userPrincipalName, givenName/);
    const missing = checkCsv(onboarding, 'givenName\nA');
    assert.deepEqual(missing.columns.missing, ['userPrincipalName', 'surname']);
    assert.match(missing.problems[0]!, /missing columns: userPrincipalName, surname/);
    assert.deepEqual(missing.rows[0]!.problems.filter((p) => p.kind === 'missing-column').map((p) => p.field), ['userPrincipalName', 'surname']);
    assert.deepEqual(checkCsv(onboarding, '').problems[0], 'the file is empty');
    assert.deepEqual(checkCsv(onboarding, 'userPrincipalName,givenName,surname\n').problems, ['the file has a header but no rows']);
    const wide = checkCsv(onboarding, 'userPrincipalName,givenName,surname\na@b.c,A,B,extra');
    assert.deepEqual(wide.rows[0]!.problems.map((p) => p.kind), ['columns']);
  });

  // Where the designer's former copy of these rules let through what the server refused.
  it('takes input names in any letter case, but not form labels, as columns', () => {
    const byCase = checkCsv(onboarding, 'USERPRINCIPALNAME,givenname,Surname\nanna@contoso.com,Anna,Lindqvist');
    assert.deepEqual(byCase.columns.found, ['userPrincipalName', 'givenName', 'surname']);
    assert.deepEqual(byCase.problems, []);
    assert.equal(byCase.rows[0]!.status, 'ok');
    const byLabel = checkCsv(onboarding, 'Sign-in name,First name,Last name\nanna@contoso.com,Anna,Lindqvist');
    assert.deepEqual(byLabel.columns.unknown, ['Sign-in name', 'First name', 'Last name']);
    assert.deepEqual(byLabel.columns.missing, ['userPrincipalName', 'givenName', 'surname']);
  });

  it('treats an empty cell as an absent value and rows differing only in letter case as duplicates', () => {
    const report = checkCsv(onboarding, 'userPrincipalName,givenName,surname,usageLocation\nanna@contoso.com,Anna,Lindqvist,\nANNA@contoso.com,anna,LINDQVIST,');
    assert.equal(report.rows[0]!.status, 'ok');
    assert.equal(report.rows[0]!.inputs.usageLocation, 'US', 'the default of an empty cell');
    assert.deepEqual(report.rows[1]!.problems.map((p) => p.message), ['duplicate of line 2']);
  });
});
