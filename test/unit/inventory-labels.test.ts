/**
 * The inventory file's `labels:` map per host (config/inventory-file.ts): what
 * compliance scopes match on. Bad labels are refused with the file, line and
 * column, the host and the field.
 */
import { parseInventoryFile } from '../../config/inventory-file';
import { expectInventoryFileRefused } from '../support/inventory-file';

describe('labels in the inventory file', () => {
  it('gives each host its map, and hosts may have labels alone', () => {
    const inventory = parseInventoryFile(
      [
        'hosts:',
        '  cmp-a-01:',
        '    ssh: { address: 10.0.0.5, credentials: fleet }',
        '    labels:',
        '      rack: r4',
        '      os_release: "12"',
        '  cmp-a-02:',
        '    labels: { rack: r5 }',
        '  cmp-a-03:',
        '    ssh: { address: 10.0.0.7, credentials: fleet }',
        '',
      ].join('\n'),
      'inv.yaml',
    );
    expect(inventory.labels).toEqual([
      { host: 'cmp-a-01', labels: { rack: 'r4', os_release: '12' } },
      { host: 'cmp-a-02', labels: { rack: 'r5' } },
    ]);
    expect(inventory.ssh.map((e) => e.host)).toEqual(['cmp-a-01', 'cmp-a-03']);
  });

  it.each([
    [
      'a number as a value',
      'hosts:\n  cmp-a-01:\n    labels:\n      rack: 4\n',
      'inv.yaml:4:13: hosts.cmp-a-01.labels.rack: must be a string (quote numbers and booleans: "4", "true")',
    ],
    [
      'a label name with a dash',
      'hosts:\n  cmp-a-01:\n    labels:\n      rack-row: r4\n',
      'inv.yaml:4:17: hosts.cmp-a-01.labels.rack-row: label names are letters, digits and "_", not starting with a digit (at most 100)',
    ],
    [
      'labels that are a list',
      'hosts:\n  cmp-a-02:\n    labels: [rack, r4]\n',
      /^inv\.yaml:3:13: hosts\.cmp-a-02\.labels: /,
    ],
    [
      'a host with nothing',
      'hosts:\n  cmp-a-03: {}\n',
      'inv.yaml:2:13: hosts.cmp-a-03: give ssh, bmc, labels or several of them',
    ],
  ])('refuses %s, naming the host and the field', (_name, text, message) => {
    expectInventoryFileRefused(text, message);
  });
});
