/**
 * Governance in the open: meetings of the bodies defined by the structure module, their
 * agendas, papers, attendance, declarations, decisions, actions and minutes, the registers of
 * interests and of gifts and hospitality, and the public involvement that informed decisions.
 */

export const MEETING_STATUSES = { scheduled: 'Scheduled', held: 'Held', cancelled: 'Cancelled' } as const;
export type MeetingStatus = keyof typeof MEETING_STATUSES;

export const AGENDA_PARTS = { public: 'Part 1 (in public)', private: 'Part 2 (in private)' } as const;
export type AgendaPart = keyof typeof AGENDA_PARTS;

export const ITEM_PURPOSES = { decision: 'For decision', discussion: 'For discussion', assurance: 'For assurance', information: 'For information' } as const;
export type ItemPurpose = keyof typeof ITEM_PURPOSES;

export const ATTENDANCE_STATUSES = { present: 'Present', apologies: 'Apologies', absent: 'Absent', in_attendance: 'In attendance (not a member)' } as const;
export type AttendanceStatus = keyof typeof ATTENDANCE_STATUSES;

export const INTEREST_KINDS = {
  financial: 'Financial interest',
  non_financial_professional: 'Non-financial professional interest',
  non_financial_personal: 'Non-financial personal interest',
  indirect: 'Indirect interest',
} as const;
export type InterestKind = keyof typeof INTEREST_KINDS;

export const HANDLING = {
  noted: 'Noted; took part',
  excluded_from_discussion: 'Left the meeting for the item (no discussion, no decision)',
  excluded_from_decision: 'Took part in the discussion but not the decision',
} as const;
export type Handling = keyof typeof HANDLING;

export const DECISION_METHODS = { vote: 'By vote', consensus: 'By consensus' } as const;
export type DecisionMethod = keyof typeof DECISION_METHODS;

export const OUTCOMES = { approved: 'Approved', rejected: 'Rejected', deferred: 'Deferred' } as const;
export type Outcome = keyof typeof OUTCOMES;

export const VOTES = { for: 'For', against: 'Against', abstain: 'Abstained' } as const;
export type Vote = keyof typeof VOTES;

export const MINUTES_STATUSES = { draft: 'Draft', approved: 'Approved', published: 'Published' } as const;
export type MinutesStatus = keyof typeof MINUTES_STATUSES;

export const INVOLVEMENT_KINDS = {
  citizens_panel: "Citizens' panel",
  survey: 'Survey',
  healthwatch: 'Healthwatch report',
  engagement_event: 'Engagement event',
  co_production: 'Co-production with people with lived experience',
  consultation: 'Public consultation',
} as const;
export type InvolvementKind = keyof typeof INVOLVEMENT_KINDS;

export interface Meeting {
  id: string;
  icsCode: string;
  bodyId: string;
  title: string;
  startsAt: Date;
  endsAt: Date | null;
  venue: string | null;
  onlineUrl: string | null;
  status: MeetingStatus;
}

export interface AgendaItem {
  id: string;
  meetingId: string;
  position: number;
  part: AgendaPart;
  title: string;
  purpose: ItemPurpose;
  privateReason: string | null;
  presenter: string | null;
  description: string | null;
  concerns: string[];
  functionId: string | null;
}

export interface PaperVersion {
  paperId: string;
  version: number;
  format: 'pdf' | 'markdown';
  filename: string;
  sizeBytes: number;
  sha256: string;
  uploadedAt: Date;
  uploadedBy: string;
  changeReason: string | null;
  publishedAt: Date | null;
}

export interface Paper {
  id: string;
  agendaItemId: string;
  title: string;
  versions: PaperVersion[];
}

export interface Attendance {
  meetingId: string;
  personId: string;
  status: AttendanceStatus;
}

export interface Interest {
  id: string;
  icsCode: string;
  personId: string;
  kind: InterestKind;
  description: string;
  orgCodes: string[];
  startDate: string;
  endDate: string | null;
  declaredOn: string;
}

export interface Gift {
  id: string;
  icsCode: string;
  personId: string;
  kind: 'gift' | 'hospitality';
  description: string;
  offeredBy: string;
  valuePounds: number;
  offeredOn: string;
  accepted: boolean;
}

export interface Declaration {
  id: string;
  meetingId: string;
  agendaItemId: string;
  personId: string;
  interestId: string | null;
  description: string;
  handling: Handling;
}

export interface Decision {
  id: string;
  meetingId: string;
  agendaItemId: string;
  title: string;
  text: string;
  method: DecisionMethod;
  outcome: Outcome;
  topic: string | null;
  decidedAt: Date;
  authorityOk: boolean;
  authorityNote: string | null;
  votes: { personId: string; vote: Vote }[];
}

export interface ActionItem {
  id: string;
  bodyId: string;
  meetingId: string;
  agendaItemId: string | null;
  description: string;
  ownerPersonId: string;
  dueDate: string;
  closedAtMeeting: string | null;
  closedNote: string | null;
}

export interface Minutes {
  meetingId: string;
  status: MinutesStatus;
  content: string;
  draftedAt: Date;
  approvedAtMeeting: string | null;
  approvedAt: Date | null;
  publishedAt: Date | null;
}

export interface Involvement {
  id: string;
  icsCode: string;
  kind: InvolvementKind;
  title: string;
  summary: string;
  heldOn: string;
  participants: number | null;
  orgCode: string | null;
  url: string | null;
}

/** Who is reading: the public see only what is published and in public; staff see everything. */
export type Audience = 'public' | 'staff';
