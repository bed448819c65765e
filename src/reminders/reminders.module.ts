import { Module } from '@nestjs/common';
import { ReminderSchedulerService } from './reminder-scheduler.service.js';
import { RemindersController } from './reminders.controller.js';
import { RemindersRepository } from './reminders.repository.js';
import { RemindersService } from './reminders.service.js';

/** Reminders: the table's one owner, the REST API, and the durable due-time scheduler. */
@Module({
  controllers: [RemindersController],
  providers: [RemindersRepository, RemindersService, ReminderSchedulerService],
  exports: [RemindersRepository],
})
export class RemindersModule {}
