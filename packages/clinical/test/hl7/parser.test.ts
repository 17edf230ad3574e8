import { describe, expect, it } from 'vitest';
import { componentOf, parseHl7 } from '../../src/hl7/index.js';

const MSH = 'MSH|^~\\&|APP|FAC|RCV|RFAC|20240102030405+0100||ADT^A01^ADT_A01|CTRL1|P|2.5';

describe('parseHl7', () => {
  it('reads the delimiters from MSH-1 and MSH-2 and numbers MSH fields from the separator', () => {
    const msg = parseHl7(`${MSH}\rPID|1||123^^^HOSP^MR||DOE^JANE`);
    expect(msg.encoding).toEqual({
      field: '|',
      component: '^',
      repetition: '~',
      escape: '\\',
      subcomponent: '&',
    });
    const msh = msg.segments[0]!;
    expect(msh.value(1)).toBe('|');
    expect(msh.value(2)).toBe('^~\\&');
    expect(msh.value(9, 1)).toBe('ADT');
    expect(msh.value(9, 2)).toBe('A01');
    expect(msg.messageCode).toBe('ADT');
    expect(msg.triggerEvent).toBe('A01');
    expect(msg.messageStructure).toBe('ADT_A01');
    expect(msg.controlId).toBe('CTRL1');
    expect(msg.version).toBe('2.5');
    expect(msg.segments[1]!.value(3, 4)).toBe('HOSP');
    expect(msg.segments[1]!.value(5, 2)).toBe('JANE');
  });

  it('honours non-default delimiters, including a 5th (truncation) character', () => {
    const text =
      'MSH#$*@%!#APP#FAC#####ORU$R01#C1#P#2.7\nPID#1##A1$$$AUTH%1.2.3%ISO$MR*B2$$$X$SS##SMITH$ANN@F@X';
    const msg = parseHl7(text);
    expect(msg.encoding).toEqual({
      field: '#',
      component: '$',
      repetition: '*',
      escape: '@',
      subcomponent: '%',
      truncation: '!',
    });
    const pid = msg.segments[1]!;
    expect(pid.repetitions(3)).toHaveLength(2);
    expect(componentOf(pid.repetitions(3)[0], 4, 2)).toBe('1.2.3');
    expect(componentOf(pid.repetitions(3)[1], 5)).toBe('SS');
    expect(pid.value(5, 2)).toBe('ANN#X');
  });

  it('gives identical segments for CR, LF and CRLF line ends, ignoring blank lines', () => {
    const lines = [MSH, 'PID|1||123', 'PV1|1|I'];
    const shapes = [lines.join('\r'), lines.join('\n'), `${lines.join('\r\n')}\r\n\r\n`].map((text) =>
      parseHl7(text).segments.map((s) => [s.name, s.index, s.fields.map((f) => f.raw)]),
    );
    expect(shapes[1]).toEqual(shapes[0]);
    expect(shapes[2]).toEqual(shapes[0]);
    expect(shapes[0]).toHaveLength(3);
  });

  it('tolerates a UTF-8 BOM and MLLP framing', () => {
    const plain = parseHl7(`${MSH}\rPID|1||123`);
    const wrapped = parseHl7(`\uFEFF\x0b${MSH}\rPID|1||123\r\x1c\r`);
    expect(wrapped.segments.map((s) => s.fields.map((f) => f.raw))).toEqual(
      plain.segments.map((s) => s.fields.map((f) => f.raw)),
    );
  });

  it('decodes \\F\\ \\S\\ \\T\\ \\R\\ \\E\\, hex and .br escapes after splitting', () => {
    const msg = parseHl7(`${MSH}\rNTE|1||a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\X4142\\g\\.br\\h\\XC3A9\\`);
    const nte = msg.segments[1]!;
    expect(nte.repetitions(3)).toHaveLength(1);
    expect(nte.value(3)).toBe('a|b^c&d~e\\fABg\nhé');
  });

  it('maps formatting escapes (.sp, .sk, highlighting) and keeps unknown or unterminated ones literally', () => {
    const msg = parseHl7(`${MSH}\rNTE|1||x\\.sp2\\y\\.sk3\\z\\H\\bold\\N\\ C:\\temp\\dir\\Q`);
    expect(msg.segments[1]!.value(3)).toBe('x\n\ny   zbold C:\\temp\\dir\\Q');
  });

  it('decodes escapes with a non-default escape character', () => {
    const msg = parseHl7('MSH|^~#&|A|B|||||ORU^R01|1|P|2.5\rNTE|1||one#F#two#T#three');
    expect(msg.segments[1]!.value(3)).toBe('one|two&three');
  });

  it('skips lines that are not segments and reports their line number only', () => {
    const msg = parseHl7(`${MSH}\nthis line is free text\nPID|1||123`);
    expect(msg.segments.map((s) => s.name)).toEqual(['MSH', 'PID']);
    expect(msg.findings).toEqual([
      expect.objectContaining({
        severity: 'warning',
        code: 'HL7_UNPARSEABLE_LINE',
        message: expect.stringContaining('Line 2'),
      }),
    ]);
    expect(msg.findings[0]!.message).not.toContain('free text');
  });

  it('reads the HL7 null ("") as empty while the raw field keeps it', () => {
    const pid = parseHl7(`${MSH}\rPID|1||123||""^ANN|||""`).segments[1]!;
    expect(pid.value(5, 1)).toBe('');
    expect(pid.value(5, 2)).toBe('ANN');
    expect(pid.value(8)).toBe('');
    expect(pid.field(8).raw).toBe('""');
  });

  it('keeps the raw text of each field next to its decoded form', () => {
    const pid = parseHl7(`${MSH}\rPID|1||A\\S\\B`).segments[1]!;
    expect(pid.field(3).raw).toBe('A\\S\\B');
    expect(pid.value(3)).toBe('A^B');
    expect(pid.field(40).repetitions).toEqual([]);
    expect(pid.value(40, 3, 2)).toBe('');
  });
});
