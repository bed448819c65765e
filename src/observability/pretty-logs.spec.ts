import { wantsPrettyLogs } from './pretty-logs.js';

describe('wantsPrettyLogs', () => {
  it('is readable in a development terminal', () => {
    expect(wantsPrettyLogs({ env: 'development' }, true)).toBe(true);
  });

  it('stays JSON in production, in pipes and files', () => {
    expect(wantsPrettyLogs({ env: 'production' }, true)).toBe(false);
    expect(wantsPrettyLogs({ env: 'development' }, false)).toBe(false);
  });
});
