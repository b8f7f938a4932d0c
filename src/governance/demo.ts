/**
 * A year of governance for the demo ICS, so the public site is full on first start: meetings
 * of the ICB board, the ICP, the primary care commissioning committee, the audit committee and
 * One Herefordshire, from twelve months ago to three months ahead, with agendas, papers,
 * attendance, declarations, votes, decisions, actions, minutes, registers and involvement.
 *
 * Everything goes through the same commands a board secretary uses, so the demo obeys every
 * rule the product enforces. People and content are fictional.
 */
import { PDFDocument, StandardFonts } from 'pdf-lib';
import type { Database } from '../core/db/database.js';
import { type IcsStructure, isCurrent } from '../structure/model.js';
import { loadStructure } from '../structure/repository.js';
import {
  addAction,
  addAgendaItem,
  addGift,
  addInterest,
  addInvolvement,
  addPaper,
  addPaperVersion,
  approveMinutes,
  closeAction,
  linkInvolvement,
  publishMinutes,
  publishPaper,
  recordAttendance,
  recordDeclaration,
  recordDecision,
  saveMinutesDraft,
  scheduleMeeting,
  setMeetingStatus,
} from './commands.js';
import { conflicts } from './checks.js';
import type { AgendaItem, AttendanceStatus, Declaration } from './model.js';
import { toInterest } from './repository.js';

const ACTOR = 'demo loader';

interface Topic {
  title: string;
  purpose: 'decision' | 'discussion' | 'assurance' | 'information';
  presenter: string;
  functionId?: string;
  concerns?: string[];
  /** How the decision is taken, for decision items. */
  method?: 'vote' | 'consensus';
  decision?: string;
  topic?: string;
  pdf?: boolean;
  private?: string;
}

interface Cadence {
  bodyId: string;
  everyMonths: number;
  /** Which week of the month (1-4) and weekday (0 = Sunday). */
  week: number;
  weekday: number;
  hour: number;
  durationHours: number;
  venues: string[];
  online: boolean;
  topics: Topic[];
  privateTopics: Topic[];
}

const PUBLIC_REASON_COMMERCIAL = 'Commercially confidential information: disclosure would prejudice the commercial interests of the ICB and bidders (Freedom of Information Act 2000, section 43).';
const PUBLIC_REASON_PERSONAL = 'Information about identifiable individuals (Freedom of Information Act 2000, section 40).';

function cadences(ics: string): Cadence[] {
  return [
    {
      bodyId: `${ics}-board`,
      everyMonths: 2,
      week: 2,
      weekday: 4,
      hour: 10,
      durationHours: 3,
      venues: ['County Hall, Spetchley Road, Worcester WR5 2NP', 'Plough Lane, Hereford HR4 0LE'],
      online: true,
      topics: [
        { title: "Chief executive's report", purpose: 'information', presenter: 'Simon Trevelyan' },
        { title: 'System financial position', purpose: 'assurance', presenter: 'Priya Shah', pdf: true, topic: 'Finance' },
        {
          title: 'Urgent and emergency care winter plan',
          purpose: 'decision',
          presenter: 'Dr Owen Hughes',
          functionId: `${ics}-fn-uec`,
          concerns: ['RWP', 'RLQ', 'RYA'],
          method: 'vote',
          decision: 'The board approved the system winter plan, including 40 additional virtual ward beds and the ambulance handover improvement trajectory.',
          topic: 'Urgent and emergency care',
        },
        { title: 'Integrated performance report', purpose: 'assurance', presenter: 'Priya Shah', topic: 'Performance' },
        {
          title: 'Community diagnostic centre: outline business case',
          purpose: 'decision',
          presenter: 'Priya Shah',
          functionId: `${ics}-fn-elective`,
          concerns: ['RWP'],
          method: 'vote',
          decision: 'The board approved the outline business case for a community diagnostic centre in Kidderminster, subject to national capital approval.',
          topic: 'Elective care',
        },
        { title: 'Mental Health Investment Standard: compliance statement', purpose: 'assurance', presenter: 'Priya Shah', functionId: `${ics}-fn-mental-health`, topic: 'Mental health' },
        { title: 'Core20PLUS5: reducing health inequalities', purpose: 'discussion', presenter: 'Dr Owen Hughes', topic: 'Health inequalities' },
        {
          title: 'Joint forward plan: annual refresh',
          purpose: 'decision',
          presenter: 'Simon Trevelyan',
          method: 'vote',
          decision: 'The board approved the refreshed joint forward plan for publication, after consulting the integrated care partnership and both health and wellbeing boards.',
          topic: 'Strategy',
        },
        { title: 'Board assurance framework', purpose: 'assurance', presenter: 'Catherine Bowen', pdf: true, topic: 'Risk' },
      ],
      privateTopics: [
        {
          title: 'Community equipment service: contract award',
          purpose: 'decision',
          presenter: 'Priya Shah',
          functionId: `${ics}-fn-community`,
          method: 'vote',
          decision: 'The board awarded the community equipment service contract to the preferred bidder for five years.',
          private: PUBLIC_REASON_COMMERCIAL,
          topic: 'Procurement',
        },
      ],
    },
    {
      bodyId: `${ics}-icp`,
      everyMonths: 3,
      week: 3,
      weekday: 2,
      hour: 14,
      durationHours: 2,
      venues: ['The Guildhall, High Street, Worcester WR1 2EY', 'Shire Hall, St Peter’s Square, Hereford HR1 2HX'],
      online: true,
      topics: [
        { title: 'Joint strategic needs assessment: what it tells us', purpose: 'discussion', presenter: 'Dr Michael Ashworth', topic: 'Public health' },
        { title: 'Healthwatch: what people told us this quarter', purpose: 'information', presenter: 'Tom Bradley', concerns: ['L-HW-WORCESTERSHIRE'], topic: 'Public voice' },
        {
          title: 'Integrated care strategy: annual refresh',
          purpose: 'decision',
          presenter: 'Cllr Karen Ellis',
          method: 'consensus',
          decision: 'The partnership agreed the refreshed integrated care strategy, adding cost of living and rural access as priorities.',
          topic: 'Strategy',
        },
        {
          title: 'VCSE partnership agreement',
          purpose: 'decision',
          presenter: 'Naomi Clarke',
          concerns: ['L-VCSE-HW-ALLIANCE'],
          method: 'consensus',
          decision: 'The partnership endorsed the VCSE partnership agreement and its three-year funding principles.',
          topic: 'Voluntary sector',
        },
      ],
      privateTopics: [],
    },
    {
      bodyId: `${ics}-committee-primary-care`,
      everyMonths: 2,
      week: 4,
      weekday: 2,
      hour: 14,
      durationHours: 2,
      venues: ['Kings Court, Charles Hastings Way, Worcester WR5 1JR'],
      online: true,
      topics: [
        { title: 'Primary care access recovery: progress', purpose: 'assurance', presenter: 'Dr Owen Hughes', topic: 'Primary care' },
        {
          title: 'Application to merge Spring Gardens and Farrier House practices',
          purpose: 'decision',
          presenter: 'Priya Shah',
          functionId: `${ics}-fn-primary-medical`,
          concerns: ['U32349', 'M81008', 'Y04968'],
          method: 'vote',
          decision: 'The committee approved the merger of the two Worcester practices from 1 April, with a patient communication plan and no change of premises.',
          topic: 'Primary care',
        },
        {
          title: 'Community pharmacy: market entry application in Evesham',
          purpose: 'decision',
          presenter: 'Priya Shah',
          functionId: `${ics}-fn-pod`,
          method: 'vote',
          decision: 'The committee refused the application because existing pharmaceutical services meet the needs set out in the pharmaceutical needs assessment.',
          topic: 'Pharmacy',
        },
        {
          title: 'Urgent dental care sessions',
          purpose: 'decision',
          presenter: 'Dr Owen Hughes',
          functionId: `${ics}-fn-pod`,
          method: 'vote',
          decision: 'The committee commissioned 1,200 additional urgent dental care sessions a year in Herefordshire and Wyre Forest.',
          topic: 'Dental',
        },
      ],
      privateTopics: [
        { title: 'Contractual matters concerning an individual practice', purpose: 'discussion', presenter: 'Priya Shah', private: PUBLIC_REASON_PERSONAL, topic: 'Primary care' },
      ],
    },
    {
      bodyId: `${ics}-committee-audit`,
      everyMonths: 3,
      week: 1,
      weekday: 3,
      hour: 10,
      durationHours: 2,
      venues: ['Kings Court, Charles Hastings Way, Worcester WR5 1JR'],
      online: false,
      topics: [
        { title: 'Internal audit progress report', purpose: 'assurance', presenter: 'Rajesh Patel', pdf: true, topic: 'Audit' },
        { title: 'Counter-fraud report', purpose: 'assurance', presenter: 'Rajesh Patel', topic: 'Audit' },
        { title: 'Risk register review', purpose: 'assurance', presenter: "Margaret O'Neill", topic: 'Risk' },
      ],
      privateTopics: [],
    },
    {
      bodyId: `${ics}-place-E06000019`,
      everyMonths: 2,
      week: 4,
      weekday: 4,
      hour: 14,
      durationHours: 2,
      venues: ['Plough Lane, Hereford HR4 0LE'],
      online: true,
      topics: [
        { title: 'Discharge to assess: performance', purpose: 'assurance', presenter: 'Hayley Morgan', topic: 'Discharge' },
        {
          title: 'Herefordshire community services plan',
          purpose: 'decision',
          presenter: 'Hayley Morgan',
          functionId: `${ics}-fn-community`,
          concerns: ['RLQ'],
          method: 'vote',
          decision: 'The partnership agreed the community services plan, moving two community hospital beds to a hospital-at-home service in Leominster.',
          topic: 'Community services',
        },
        {
          title: 'Health inequalities funding: Herefordshire schemes',
          purpose: 'decision',
          presenter: 'Dr Rebecca Lloyd',
          functionId: `${ics}-fn-inequalities`,
          method: 'vote',
          decision: 'The partnership funded three schemes: mobile health checks for farming communities, a Gypsy and Traveller health worker, and smoking cessation in pregnancy.',
          topic: 'Health inequalities',
        },
        {
          title: 'Mental health crisis café in Hereford',
          purpose: 'decision',
          presenter: 'Fiona Grant',
          functionId: `${ics}-fn-mental-health`,
          method: 'vote',
          decision: 'The partnership agreed to fund a mental health crisis café in Hereford city centre for two years.',
          topic: 'Mental health',
        },
      ],
      privateTopics: [],
    },
  ];
}

/** The date of the nth weekday of a month, at a UK local hour (written in UTC). */
function nthWeekday(year: number, month: number, week: number, weekday: number, hour: number): Date {
  const first = new Date(Date.UTC(year, month, 1));
  const offset = (weekday - first.getUTCDay() + 7) % 7;
  const day = 1 + offset + (week - 1) * 7;
  // British Summer Time from April to October (close enough for scheduling the demo).
  const bst = month >= 3 && month <= 9 ? 1 : 0;
  return new Date(Date.UTC(year, month, day, hour - bst, 0));
}

function paperMarkdown(title: string, body: string, date: Date, presenter: string): string {
  return [
    `# ${title}`,
    '',
    `**Meeting:** ${body}  `,
    `**Date:** ${date.toISOString().slice(0, 10)}  `,
    `**Presented by:** ${presenter}`,
    '',
    '## Purpose',
    '',
    `This paper sets out ${title.toLowerCase()} for the ${body}.`,
    '',
    '## Summary',
    '',
    '- Performance against the plan is reported with the measures agreed in the joint forward plan.',
    '- Risks and mitigations are set out in the appendix.',
    '- The views of people who use services, gathered through Healthwatch and the citizens’ panel, are summarised in section 4.',
    '',
    '## Recommendation',
    '',
    `The ${body} is asked to note the contents of this paper.`,
    '',
  ].join('\n');
}

async function paperPdf(title: string, body: string, date: Date, presenter: string, revised = false): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.setTitle(title);
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const page = doc.addPage([595, 842]);
  page.drawText(title, { x: 50, y: 780, size: 18, font: bold });
  const lines = [
    `Meeting: ${body}`,
    `Date: ${date.toISOString().slice(0, 10)}`,
    `Presented by: ${presenter}`,
    '',
    'Summary',
    'This report gives the position at the end of the latest month, with the forecast',
    'for the full year and the actions agreed to close any gap.',
    revised ? 'Revised: the figures in table 2 were corrected.' : '',
  ];
  lines.forEach((line, i) => page.drawText(line, { x: 50, y: 740 - i * 18, size: 11, font }));
  return Buffer.from(await doc.save());
}

function personId(s: IcsStructure, name: string): string {
  const found = [...s.people.values()].find((p) => p.name === name);
  if (!found) throw new Error(`demo person ${name} is missing`);
  return found.id;
}

/** Interests declared by the demo's people, from the roles they hold. */
async function loadRegisters(db: Database, ics: string, s: IcsStructure): Promise<void> {
  const seen = new Set<string>();
  for (const role of s.organisationRoles) {
    if (role.orgCode === ics || seen.has(`${role.personId}:${role.orgCode}`)) continue;
    seen.add(`${role.personId}:${role.orgCode}`);
    const org = s.organisations.get(role.orgCode);
    if (!org) continue;
    const isPcn = role.role === 'pcn_clinical_director';
    const practice = isPcn ? s.practices.find((p) => p.pcnCode === role.orgCode) : undefined;
    await addInterest(
      db,
      ics,
      {
        personId: role.personId,
        kind: isPcn ? 'financial' : 'non_financial_professional',
        description: isPcn
          ? `Clinical director of ${org.name}; GP partner at ${s.organisations.get(practice?.orgCode ?? '')?.name ?? 'a member practice'}`
          : `${role.role === 'elected_member' ? 'Elected member' : role.role === 'director_of_public_health' ? 'Director of public health' : 'Chief executive'} of ${org.name}`,
        orgCodes: [role.orgCode, ...(practice ? [practice.orgCode] : [])],
        startDate: role.startDate,
        declaredOn: role.startDate,
      },
      ACTOR,
    );
  }
  await addInterest(
    db,
    ics,
    { personId: personId(s, 'Rajesh Patel'), kind: 'non_financial_personal', description: 'Trustee of Age UK Herefordshire and Worcestershire', orgCodes: ['L-VCSE-AGE-UK-HW'], startDate: '2021-03-01', declaredOn: '2022-07-01' },
    ACTOR,
  );
  await addInterest(
    db,
    ics,
    { personId: personId(s, "Margaret O'Neill"), kind: 'indirect', description: 'Spouse is a consultant anaesthetist at Worcestershire Acute Hospitals NHS Trust', orgCodes: ['RWP'], startDate: '2015-09-01', declaredOn: '2022-07-01' },
    ACTOR,
  );
  await addInterest(
    db,
    ics,
    { personId: personId(s, 'Samuel Adeyemi'), kind: 'non_financial_professional', description: 'Former director of nursing at Wye Valley NHS Trust (left March 2024)', orgCodes: ['RLQ'], startDate: '2019-01-01', endDate: '2024-03-31', declaredOn: '2025-07-01' },
    ACTOR,
  );
  const gifts: [string, 'gift' | 'hospitality', string, string, number, string, boolean][] = [
    ['Simon Trevelyan', 'hospitality', 'Dinner at the NHS Confederation annual conference', 'NHS Confederation', 45, '-200', true],
    ['Priya Shah', 'hospitality', 'Invitation to a corporate box at a cricket match', 'A professional services firm bidding for ICB work', 250, '-150', false],
    ['Dr Owen Hughes', 'gift', 'Box of chocolates from a patient group', 'Malvern patient participation group', 15, '-90', true],
    ['Catherine Bowen', 'hospitality', 'Lunch at a regional nursing awards event', 'University of Worcester', 30, '-40', true],
  ];
  for (const [name, kind, description, offeredBy, valuePounds, daysAgo, accepted] of gifts) {
    const day = new Date(Date.now() + Number(daysAgo) * 86_400_000).toISOString().slice(0, 10);
    await addGift(db, ics, { personId: personId(s, name), kind, description, offeredBy, valuePounds, offeredOn: day, accepted }, ACTOR);
  }
}

interface HeldMeeting {
  id: string;
  bodyId: string;
  startsAt: Date;
  held: boolean;
  decisions: { id: string; title: string; topic: string | undefined; decidedAt: Date }[];
  openActions: string[];
}

export async function loadGovernanceDemo(db: Database, ics: string, now: Date = new Date()): Promise<{ meetings: number; decisions: number }> {
  const s = await loadStructure(db, ics);
  await loadRegisters(db, ics, s);
  const interests = (await db.query<Record<string, unknown>>('SELECT * FROM interest WHERE ics_code = $1', [ics])).rows.map(toInterest);


  const meetings: HeldMeeting[] = [];
  let revisedOnce = false;
  let decisionCount = 0;
  for (const cadence of cadences(ics)) {
    const body = s.bodies.find((b) => b.id === cadence.bodyId);
    if (!body) continue;
    let previous: HeldMeeting | undefined;
    let topicCursor = 0;
    const decided = new Set<string>();
    for (let offset = -12; offset <= 3; offset++) {
      const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
      if (((month.getUTCFullYear() * 12 + month.getUTCMonth()) % cadence.everyMonths) !== 0) continue;
      const startsAt = nthWeekday(month.getUTCFullYear(), month.getUTCMonth(), cadence.week, cadence.weekday, cadence.hour);
      const held = startsAt.getTime() < now.getTime() - 2 * 3_600_000;
      const onDate = startsAt.toISOString().slice(0, 10);
      const venue = cadence.venues[meetings.length % cadence.venues.length];
      const meetingId = await scheduleMeeting(
        db,
        ics,
        {
          bodyId: body.id,
          title: `${body.name}: ${startsAt.toLocaleDateString('en-GB', { month: 'long', year: 'numeric', timeZone: 'Europe/London' })}`,
          startsAt: startsAt.toISOString(),
          endsAt: new Date(startsAt.getTime() + cadence.durationHours * 3_600_000).toISOString(),
          venue,
          onlineUrl: cadence.online ? `https://meet.openics.example/${body.id}/${onDate}` : undefined,
        },
        ACTOR,
      );
      const meeting: HeldMeeting = { id: meetingId, bodyId: body.id, startsAt, held, decisions: [], openActions: [] };

      // Who attends: current members present, one non-essential apology, presenters in attendance.
      const members = s.memberships.filter((m) => m.bodyId === body.id && isCurrent(m, onDate));
      const memberIds = [...new Set(members.map((m) => m.personId))];
      const votingIds = new Set(members.filter((m) => m.voting).map((m) => m.personId));
      const spare = votingIds.size - (body.quorum ?? 1);
      const apologies = spare > 1 ? memberIds.filter((id) => votingIds.has(id))[(meetings.length * 3) % votingIds.size] : undefined;

      // The agenda: standing items, two reports in rotation, the next decision not yet taken, any private business.
      const reports = cadence.topics.filter((t) => t.purpose !== 'decision');
      const pending = cadence.topics.filter((t) => t.purpose === 'decision' && !decided.has(t.title));
      const topics = [...new Set([reports[topicCursor % reports.length], reports[(topicCursor + 1) % reports.length], pending[0]])].filter((t): t is Topic => t !== undefined);
      if (pending[0]) decided.add(pending[0].title);
      topicCursor += 2;
      const privateTopic = cadence.privateTopics[meetings.length % Math.max(1, cadence.privateTopics.length)];
      const items: { topic: Topic; id: string }[] = [];
      const standing: Topic[] = [
        { title: 'Welcome, apologies and quorum', purpose: 'information', presenter: s.people.get(members.find((m) => m.role === 'chair')?.personId ?? '')?.name ?? 'Chair' },
        { title: 'Declarations of interest', purpose: 'information', presenter: 'Chair' },
        ...(previous ? [{ title: 'Minutes of the previous meeting and action log', purpose: 'decision' as const, presenter: 'Chair' }] : []),
      ];
      for (const topic of [...standing, ...topics, ...(privateTopic && offset % 2 === 0 ? [privateTopic] : [])]) {
        const itemId = await addAgendaItem(
          db,
          ics,
          meetingId,
          {
            part: topic.private ? 'private' : 'public',
            privateReason: topic.private,
            title: topic.title,
            purpose: topic.purpose,
            presenter: topic.presenter,
            concerns: topic.concerns,
            functionId: topic.functionId,
          },
          ACTOR,
        );
        items.push({ topic, id: itemId });
        if (standing.includes(topic)) continue;
        // Papers: published with the agenda a week ahead; a finance paper is revised once.
        const publishable = startsAt.getTime() - now.getTime() < 7 * 86_400_000;
        const paperTitle = topic.title;
        const paperId = topic.pdf
          ? await addPaper(db, ics, itemId, { title: paperTitle, file: { filename: `${paperTitle}.pdf`, bytes: await paperPdf(paperTitle, body.name, startsAt, topic.presenter) } }, ACTOR)
          : await addPaper(db, ics, itemId, { title: paperTitle, file: { filename: `${paperTitle}.md`, bytes: Buffer.from(paperMarkdown(paperTitle, body.name, startsAt, topic.presenter)) } }, ACTOR);
        if (publishable) {
          const publishedAt = new Date(Math.min(now.getTime(), startsAt.getTime() - 7 * 86_400_000));
          await publishPaper(db, ics, paperId, ACTOR, publishedAt);
          // One finance paper is corrected after publication, as happens: version 2 says why.
          if (topic.pdf && held && !revisedOnce) {
            revisedOnce = true;
            await addPaperVersion(
              db,
              ics,
              paperId,
              { file: { filename: `${paperTitle}.pdf`, bytes: await paperPdf(paperTitle, body.name, startsAt, topic.presenter, true) }, reason: 'Corrected the month 6 figures in table 2.' },
              ACTOR,
            );
            await publishPaper(db, ics, paperId, ACTOR, new Date(publishedAt.getTime() + 3 * 86_400_000));
          }
        }
      }

      if (held) {
        const attendance: { personId: string; status: AttendanceStatus }[] = memberIds.map((id) => ({ personId: id, status: id === apologies ? 'apologies' : 'present' }));
        const presenters = new Set(items.map((i) => i.topic.presenter));
        for (const p of s.people.values()) if (presenters.has(p.name) && !memberIds.includes(p.id)) attendance.push({ personId: p.id, status: 'in_attendance' });
        await recordAttendance(db, ics, meetingId, attendance, ACTOR);
        await setMeetingStatus(db, ics, meetingId, 'held', ACTOR);

        // Declarations for every flagged conflict: exclusion from decisions where money is involved.
        const agenda: AgendaItem[] = items.map(({ topic, id }, i) => ({
          id,
          meetingId,
          position: i + 1,
          part: topic.private ? 'private' : 'public',
          title: topic.title,
          purpose: topic.purpose,
          privateReason: topic.private ?? null,
          presenter: topic.presenter,
          description: null,
          concerns: topic.concerns ?? [],
          functionId: topic.functionId ?? null,
        }));
        const present = attendance.map((a) => ({ meetingId, personId: a.personId, status: a.status }));
        const declared: Declaration[] = [];
        for (const flag of conflicts(s, body, agenda, present, interests, [], onDate)) {
          if (declared.some((d) => d.agendaItemId === flag.agendaItemId && d.personId === flag.personId)) continue;
          const interest = interests.find((i) => i.id === flag.interestId);
          const handling = interest?.kind === 'financial' ? 'excluded_from_decision' : 'noted';
          await recordDeclaration(db, ics, meetingId, { agendaItemId: flag.agendaItemId, personId: flag.personId, interestId: flag.interestId, handling }, ACTOR);
          declared.push({ id: '', meetingId, agendaItemId: flag.agendaItemId, personId: flag.personId, interestId: flag.interestId, description: flag.interest, handling });
        }

        // Decisions: present voting members vote; anyone excluded by a declaration does not.
        for (const { topic, id } of items) {
          if (topic.title === 'Minutes of the previous meeting and action log' && previous) {
            await approveMinutes(db, ics, previous.id, meetingId, ACTOR);
            for (const actionId of previous.openActions.splice(0, 1)) await closeAction(db, ics, actionId, { meetingId, note: 'Completed and reported to the meeting.' }, ACTOR);
            continue;
          }
          if (topic.purpose !== 'decision' || !topic.decision) continue;
          const excluded = new Set(declared.filter((d) => d.agendaItemId === id && d.handling !== 'noted').map((d) => d.personId));
          const voters = memberIds.filter((pid) => votingIds.has(pid) && pid !== apologies && !excluded.has(pid));
          const votes = topic.method === 'vote' ? voters.map((pid, i) => ({ personId: pid, vote: i === voters.length - 1 && voters.length > 4 ? 'abstain' : 'for' })) : undefined;
          const outcome = topic.title.includes('market entry') ? 'rejected' : 'approved';
          const recorded = await recordDecision(
            db,
            ics,
            meetingId,
            {
              agendaItemId: id,
              title: topic.title,
              text: topic.decision,
              method: topic.method ?? 'consensus',
              outcome,
              topic: topic.topic,
              votes: outcome === 'rejected' ? votes?.map((v) => ({ ...v, vote: 'against' })) : votes,
            },
            ACTOR,
          );
          meeting.decisions.push({ id: recorded.id, title: topic.title, topic: topic.topic, decidedAt: startsAt });
          decisionCount += 1;
        }

        // Actions: one per substantive item, due before the next meeting.
        for (const { topic, id } of items.filter((i) => !standing.includes(i.topic)).slice(0, 2)) {
          const owner = [...s.people.values()].find((p) => p.name === topic.presenter) ?? s.people.get(memberIds[0] ?? '');
          if (!owner) continue;
          const due = new Date(startsAt.getTime() + (cadence.everyMonths * 30 - 7) * 86_400_000).toISOString().slice(0, 10);
          const actionId = await addAction(db, ics, meetingId, { description: `Bring an update on ${topic.title.toLowerCase()} to the next meeting`, ownerPersonId: owner.id, dueDate: due, agendaItemId: id }, ACTOR);
          meeting.openActions.push(actionId);
        }

        const lines = [
          `# Minutes: ${body.name}`,
          '',
          `Held on ${startsAt.toISOString().slice(0, 10)} at ${venue ?? 'online'}.`,
          '',
          `**Present:** ${attendance.filter((a) => a.status === 'present').map((a) => s.people.get(a.personId)?.name ?? '').join(', ')}`,
          '',
          ...(apologies ? [`**Apologies:** ${s.people.get(apologies)?.name ?? ''}`, ''] : []),
          ...items
            .filter((i) => !i.topic.private)
            .flatMap(({ topic }, n) => [`## ${n + 1}. ${topic.title}`, '', topic.decision ?? `The meeting received the item presented by ${topic.presenter} and discussed it.`, '']),
        ];
        await saveMinutesDraft(db, ics, meetingId, lines.join('\n'), ACTOR);
        if (previous?.held) await publishMinutes(db, ics, previous.id, ACTOR, new Date(Math.min(now.getTime(), startsAt.getTime() + 2 * 86_400_000)));
      }
      meetings.push(meeting);
      previous = meeting;
    }
  }

  // Public involvement, linked to the decisions it informed.
  const decisions = meetings.flatMap((m) => m.decisions);
  const involvement: { kind: string; title: string; summary: string; daysBefore: number; participants: number; orgCode?: string; informs: string; howUsed: string }[] = [
    {
      kind: 'citizens_panel',
      title: "Citizens' panel on urgent care",
      summary: '1,100 panel members told us they want clearer advice on where to go and shorter waits for ambulances in rural areas.',
      daysBefore: 45,
      participants: 1100,
      informs: 'Urgent and emergency care winter plan',
      howUsed: 'The winter plan added a rural ambulance response trial and a campaign on NHS 111 online.',
    },
    {
      kind: 'healthwatch',
      title: 'Healthwatch Worcestershire: getting a GP appointment',
      summary: 'Patients in Worcester described long telephone queues and wanted online booking and continuity with a named GP.',
      daysBefore: 60,
      participants: 640,
      orgCode: 'L-HW-WORCESTERSHIRE',
      informs: 'Application to merge Spring Gardens and Farrier House practices',
      howUsed: 'The merger was approved on condition of a single telephone system with call-back and a named GP for patients over 75.',
    },
    {
      kind: 'engagement_event',
      title: 'Hereford community conversation on mental health',
      summary: 'Young people and carers asked for somewhere to go in a crisis that is not the emergency department.',
      daysBefore: 35,
      participants: 85,
      informs: 'Mental health crisis café in Hereford',
      howUsed: 'The crisis café proposal came directly from this conversation; its opening hours follow what people asked for.',
    },
    {
      kind: 'survey',
      title: 'Herefordshire community services survey',
      summary: '2,300 residents told us they prefer care at home where safe, and worry about travelling to community hospitals.',
      daysBefore: 50,
      participants: 2300,
      orgCode: 'L-HW-HEREFORDSHIRE',
      informs: 'Herefordshire community services plan',
      howUsed: 'The plan moves beds to a hospital-at-home service and keeps outpatient clinics in market towns.',
    },
    {
      kind: 'co_production',
      title: 'Co-producing the integrated care strategy with people with lived experience',
      summary: 'A panel of 24 people with lived experience of long-term conditions, disability and poverty reviewed the strategy priorities.',
      daysBefore: 75,
      participants: 24,
      informs: 'Integrated care strategy: annual refresh',
      howUsed: 'Cost of living and rural access were added as strategy priorities at the panel’s request.',
    },
  ];
  for (const entry of involvement) {
    // Involvement comes before the decision it informs: date it some weeks ahead of the first one.
    const informed = decisions.filter((d) => d.title === entry.informs).sort((x, y) => x.decidedAt.getTime() - y.decidedAt.getTime())[0];
    const heldOn = new Date((informed ? informed.decidedAt.getTime() : now.getTime()) - entry.daysBefore * 86_400_000).toISOString().slice(0, 10);
    const id = await addInvolvement(db, ics, { kind: entry.kind, title: entry.title, summary: entry.summary, heldOn, participants: entry.participants, orgCode: entry.orgCode }, ACTOR);
    for (const decision of decisions.filter((d) => d.title === entry.informs)) await linkInvolvement(db, ics, id, decision.id, entry.howUsed, ACTOR);
  }
  return { meetings: meetings.length, decisions: decisionCount };
}
